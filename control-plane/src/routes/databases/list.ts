import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, type ControlPlaneApp, requireAdmin } from "../context";
import { DatabaseInfo, problems } from "../schemas";

const ListResponse = z.object({ databases: z.array(DatabaseInfo) });

export const route = createRoute({
  method: "get",
  path: "/v1/databases",
  summary: "List databases",
  security: bearerSecurity,
  responses: {
    200: {
      description: "All databases",
      content: { "application/json": { schema: ListResponse } },
    },
    ...problems(401),
  },
});

export type ListDatabasesResponse = z.infer<typeof ListResponse>;

export function register(app: ControlPlaneApp): void {
  app.openapi(route, (c) => {
    requireAdmin(c);
    return c.json({ databases: c.get("manager").list() }, 200);
  });
}
