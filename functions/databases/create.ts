import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerOf, bearerSecurity, createFunctionApp, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema, problems } from "../lib/schemas";

const CreateBody = z
  .object({
    name: z.string().min(1).max(200).openapi({ example: "my-app" }),
    memoryMb: z.number().int().min(128).max(65_536).optional().openapi({
      description:
        "Memory cap of the database's worker in MiB (SQLite, JavaScript heap and OS limit); default: the server's DBFORGE_WORKER_MEMORY_MB",
    }),
  })
  .openapi("CreateDatabaseRequest");

export const route = createRoute({
  method: "post",
  path: "/admin/databases",
  summary: "Create a database",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: CreateBody } } } },
  responses: {
    201: {
      description: "Created and running",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(400, 401, 409, 503, 507),
  },
});

export type CreateDatabaseRequest = z.infer<typeof CreateBody>;
export type CreateDatabaseResponse = z.infer<typeof DatabaseSchema>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const info = await c.get("controlPlane").createDatabase(bearerOf(c), c.req.valid("json"));
  return c.json(publicDatabase(c, info), 201);
};

export default createFunctionApp().openapi(route, handler);
