import { createRoute, type z } from "@hono/zod-openapi";
import { bearerSecurity, type ControlPlaneApp, requireAdmin } from "../context";
import { DatabaseInfo, NameParams, problems } from "../schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/databases/{name}",
  summary: "Show a database",
  security: bearerSecurity,
  request: { params: NameParams },
  responses: {
    200: { description: "The database", content: { "application/json": { schema: DatabaseInfo } } },
    ...problems(401, 404),
  },
});

export type GetDatabaseResponse = z.infer<typeof DatabaseInfo>;

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    requireAdmin(c);
    return c.json(c.get("manager").get(c.req.valid("param").name), 200);
  });
}
