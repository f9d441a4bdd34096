import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { DATA_ERRORS, TableNameParam } from "../lib/schemas";
import { describeTable } from "../lib/tables";
import { manifestRoute } from "../route-table";

export const TableSchema = z
  .object({
    name: z.string(),
    type: z.enum(["table", "view"]),
    sql: z.string().nullable(),
    withoutRowid: z.boolean(),
    strict: z.boolean(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        notNull: z.boolean(),
        default: z
          .string()
          .nullable()
          .openapi({ description: "The DEFAULT expression as SQL text" }),
        primaryKey: z
          .number()
          .int()
          .openapi({ description: "1-based position in the primary key, 0 if not in it" }),
        hidden: z.boolean().openapi({ description: "Generated or hidden column" }),
      }),
    ),
    indexes: z.array(
      z.object({
        name: z.string(),
        unique: z.boolean(),
        origin: z.string(),
        columns: z.array(z.string()),
      }),
    ),
    foreignKeys: z.array(
      z.object({
        from: z.string(),
        table: z.string(),
        to: z.string().nullable(),
        onUpdate: z.string(),
        onDelete: z.string(),
      }),
    ),
  })
  .openapi("Table");

export const route = createRoute({
  ...manifestRoute("tables/get"),
  summary: "Describe a table: columns, indexes, foreign keys",
  tags: ["Tables"],
  security: bearerSecurity,
  request: { params: z.object({ name: DatabaseNameParam, table: TableNameParam }) },
  responses: {
    200: { description: "The table", content: { "application/json": { schema: TableSchema } } },
    ...problems(...DATA_ERRORS),
  },
});

export type GetTableResponse = z.infer<typeof TableSchema>;

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  return c.json(
    await withDatabase(callerOf(c), name, ({ client }) => describeTable(client, table)),
    200,
  );
};

export default createFunctionApp().openapi(route, handler);
