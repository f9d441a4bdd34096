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
import { SqlValueSchema } from "../lib/values";
import { manifestRoute } from "../route-table";
import { toArgs } from "./query";

const BatchBody = z
  .object({
    statements: z
      .array(
        z.object({
          sql: z.string().min(1),
          params: z
            .union([z.array(SqlValueSchema), z.record(z.string(), SqlValueSchema)])
            .optional(),
        }),
      )
      .min(1)
      .max(10_000),
    mode: z.enum(["write", "read", "deferred"]).optional().openapi({
      default: "write",
      description: "Transaction mode: write (BEGIN IMMEDIATE), read, or deferred",
    }),
    rowMode: RowModeSchema.optional(),
  })
  .openapi("BatchRequest");

const BatchResult = z.object({ results: z.array(QueryResultSchema) }).openapi("BatchResult");

export const route = createRoute({
  ...manifestRoute("data/batch"),
  summary: "Run statements atomically, in one transaction",
  description: `All statements succeed together, or none takes effect. ${DUPLICATE_COLUMNS_RULE}`,
  tags: ["Data"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: BatchBody } } },
  },
  responses: {
    200: {
      description: "One result per statement",
      content: { "application/json": { schema: BatchResult } },
    },
    ...problems(...DATA_ERRORS, 507),
  },
});

export type BatchRequest = z.input<typeof BatchBody>;
export type BatchResponse = z.infer<typeof BatchResult>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const { statements, mode = "write", rowMode } = c.req.valid("json");
  noteSql(
    c,
    statements.map((s) => s.sql),
  );
  const results = await withDatabase(callerOf(c), name, async ({ client }) =>
    client.batch(
      statements.map((s) => ({ sql: s.sql, args: toArgs(s.params) })),
      mode,
    ),
  );
  noteRows(
    c,
    results.reduce((n, rs) => n + rs.rows.length, 0),
  );
  return c.json({ results: results.map((rs) => toQueryResult(rs, rowMode)) }, 200);
};

export default createFunctionApp().openapi(route, handler);
