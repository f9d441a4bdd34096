import { createRoute, type RouteHandler, type z } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { type CreateDatabaseRequest, CreateDatabaseSchema } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsContext, type FunctionsEnv } from "../lib/context";
import { publicDatabase } from "../lib/databases";
import { DatabaseSchema } from "../lib/schemas";
import { manifestRoute } from "../route-table";

const CreateBody = CreateDatabaseSchema.openapi("CreateDatabaseRequest");

export const route = createRoute({
  ...manifestRoute("databases/create"),
  summary: "Create a database",
  tags: ["Databases"],
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: CreateBody } } } },
  responses: {
    201: {
      description: "Created and running",
      content: { "application/json": { schema: DatabaseSchema } },
    },
    ...problems(400, 401, 403, 409, 429, 503, 507),
  },
});

export type CreateDatabaseResponse = z.infer<typeof DatabaseSchema>;

/** Creates a database on the caller's behalf (also for the alias POST /admin/databases/spawn/{name}). */
export async function createDatabase(c: FunctionsContext, body: CreateDatabaseRequest) {
  return publicDatabase(c, await c.get("controlPlane").createDatabase(bearerOf(c), body));
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await createDatabase(c, c.req.valid("json")), 201);

export default createFunctionApp().openapi(route, handler);
