import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API, DatabaseListSchema } from "../../../../core/control-plane-api";
import { bearerSecurity, problems } from "../../../../core/openapi";
import { type ControlPlaneApp, requireAdmin } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.listDatabases,
  summary: "List databases",
  security: bearerSecurity,
  responses: {
    200: {
      description: "All databases",
      content: { "application/json": { schema: DatabaseListSchema } },
    },
    ...problems(401),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    requireAdmin(c);
    return c.json({ databases: c.get("manager").list() }, 200);
  });
}
