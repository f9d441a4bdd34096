import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, WhoAmISchema } from "../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../core/openapi";
import { type ControlPlaneApp, principalOf } from "./context";

export const route = createRoute({
  ...CONTROL_PLANE_API.whoami,
  summary:
    "The credential's own role, scope and permissions (for a console to show what it may do)",
  security: bearerSecurity,
  responses: {
    200: { description: "Who you are", content: { "application/json": { schema: WhoAmISchema } } },
    ...problems(401),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    const access = c.get("access");
    const principal = principalOf(c);
    return c.json(
      {
        actor: principal.actor,
        name: principal.name,
        role: principal.role,
        databases: principal.scope,
        permissions: [...access.permissionsOf(principal)],
      },
      200,
    );
  });
}
