import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, type ControlPlaneApp, requireAdmin } from "../context";
import { NameParams, problems } from "../schemas";

export const route = createRoute({
  method: "delete",
  path: "/v1/databases/{name}",
  summary: "Delete a database: its worker is stopped and its files removed",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 404, 503),
  },
});

export function register(app: ControlPlaneApp): void {
  app.openapi(route, async (c) => {
    requireAdmin(c);
    await c.get("manager").delete(c.req.valid("param").name);
    return c.body(null, 204);
  });
}
