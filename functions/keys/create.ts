import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { bearerOf } from "../../core/bearer";
import { CreatedKeySchema, CreateKeySchema } from "../../core/control-plane-api";
import { bearerSecurity, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { manifestRoute } from "../route-table";

export const route = createRoute({
  ...manifestRoute("keys/create"),
  summary: "Create an API key with a role and a scope of databases",
  description:
    'Roles: `owner` (everything, keys included), `admin` (databases, tokens, data, usage, audit, metrics), `developer` (query, read and write the data of the databases in scope), `viewer` (read only). `databases` is `"*"` or a list of names and prefixes (`"app-*"`). The key is returned once and stored hashed. It works wherever the admin token does, within its role and scope, and as the `authToken` of `@libsql/client`. Needs keys:manage (an owner key).',
  tags: ["Keys"],
  security: bearerSecurity,
  request: {
    body: { required: true, content: { "application/json": { schema: CreateKeySchema } } },
  },
  responses: {
    201: {
      description: "The new key; `key` is shown this once",
      content: { "application/json": { schema: CreatedKeySchema } },
    },
    ...problems(400, 401, 403, 429, 503),
  },
});

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) =>
  c.json(await c.get("controlPlane").createKey(bearerOf(c), c.req.valid("json")), 201);

export default createFunctionApp().openapi(route, handler);
