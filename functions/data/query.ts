import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { noteRows, noteSql } from "../lib/request-log";
import {
  DUPLICATE_COLUMNS_RULE,
  QueryResultSchema,
  RowModeSchema,
  toQueryResult,
} from "../lib/results";
import { DATA_ERRORS } from "../lib/schemas";
import { SqlValueSchema, toInValue } from "../lib/values";
import { manifestRoute } from "../route-table";

export const QueryBody = z
  .object({
    sql: z.string().min(1),
    params: z
      .union([z.array(SqlValueSchema), z.record(z.string(), SqlValueSchema)])
      .optional()
      .openapi({
        description: 'Positional (array) or named (object: `{"id": 1}` binds :id, @id or $id)',
      }),
    rowMode: RowModeSchema.optional(),
  })
  .openapi("QueryRequest");

export const route = createRoute({
  ...manifestRoute("data/query"),
  summary: "Run one SQL statement",
  description: DUPLICATE_COLUMNS_RULE,
  tags: ["Data"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: QueryBody } } },
  },
  responses: {
    200: {
      description: "The statement's result",
      content: { "application/json": { schema: QueryResultSchema } },
    },
    ...problems(...DATA_ERRORS, 507),
  },
});

export type QueryRequest = z.infer<typeof QueryBody>;
export type QueryResponse = z.infer<typeof QueryResultSchema>;

/** Binds JSON params: arrays positionally, objects by name. */
export function toArgs(params: QueryRequest["params"]) {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map(toInValue);
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, toInValue(v)]));
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const { sql, params, rowMode } = c.req.valid("json");
  noteSql(c, [sql]);
  const result = await withDatabase(callerOf(c), name, async ({ client }) =>
    toQueryResult(await client.execute({ sql, args: toArgs(params) }), rowMode),
  );
  noteRows(c, result.rows.length);
  return c.json(result, 200);
};

export default createFunctionApp().openapi(route, handler);
