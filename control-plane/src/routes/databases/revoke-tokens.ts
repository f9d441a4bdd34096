import { createRoute } from "@hono/zod-openapi";
import { CONTROL_PLANE_API } from "../../../../core/control-plane-api";
import { bearerSecurity, NameParams, problems } from "../../../../core/openapi";
import { audited, type ControlPlaneApp } from "../context";

export const route = createRoute({
  ...CONTROL_PLANE_API.revokeTokens,
  summary: "Invalidate every token of a database (and no other database's)",
  description:
    "The database gets a new signing key; a running worker restarts with it. Tokens minted afterwards work as before.",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    204: { description: "Every earlier token of the database is invalid" },
    ...problems(401, 403, 404, 503),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    const { name } = c.req.valid("param");
    await audited(c, { action: "tokens.revoke", permission: "tokens:manage", database: name }, () =>
      c.get("manager").revokeTokens(name),
    );
    return c.body(null, 204);
  });
}
