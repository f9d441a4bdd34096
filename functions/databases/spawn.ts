import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf, bearerSecurity, createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseNameParam, DatabaseSchema, problems } from "../lib/schemas";

export const route = createRoute({
  method: "post",
  path: "/admin/databases/spawn/{name}",
  summary: "Create a database (alias of POST /admin/databases)",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    201: {
      description: "Created and running",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(400, 401, 409, 503, 507),
  },
});

export type SpawnDatabaseResponse = z.infer<typeof DatabaseSchema>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const info = await c
    .get("controlPlane")
    .createDatabase(bearerOf(c), { name: c.req.valid("param").name });
  return c.json(publicDatabase(c, info), 201);
};

export default createFunctionApp().openapi(route, handler);
