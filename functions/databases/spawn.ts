import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";
import { createDatabase } from "./create";

export const route = createRoute({
  ...manifestRoute("databases/spawn"),
  summary: "Create a database (alias of POST /admin/databases)",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam }) },
  responses: {
    201: {
      description: "Created and running",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(400, 401, 403, 409, 429, 503, 507),
  },
});

export type SpawnDatabaseResponse = z.infer<typeof DatabaseSchema>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await createDatabase(c, { name: c.req.valid("param").name }), 201);

export default createFunctionApp().openapi(route, handler);
