import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { FILTER_DESCRIPTION, parseFilters } from "../lib/filters";
import { QueryResultSchema, toArrayRows, toObjectRows } from "../lib/results";
import { columnIdent, tableForRows } from "../lib/rows";
import { DATA_ERRORS, TableNameParam } from "../lib/schemas";
import { quoteIdent } from "../lib/sql";
import { manifestRoute } from "../route-table";

const RESERVED = new Set(["limit", "offset", "order", "select", "cursor", "count"]);
const ROWID = "__dbforge_rowid";

const ListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).optional().openapi({ default: 100 }),
    offset: z.coerce.number().int().min(0).optional().openapi({ default: 0 }),
    order: z.string().optional().openapi({
      description: "Comma-separated columns, each optionally `.asc`/`.desc` (or `-column`)",
      example: "name,created_at.desc",
    }),
    select: z.string().optional().openapi({
      description:
        "Comma-separated columns to return (default: all); a column named twice is keyed `name`, then `name:1`, … (the rule of /query)",
    }),
    cursor: z
      .string()
      .optional()
      .openapi({ description: "`nextCursor` of the previous page (default order only)" }),
    count: z
      .enum(["true", "false"])
      .optional()
      .openapi({ description: "Also return `total`, the number of matching rows" }),
  })
  .passthrough()
  .openapi({ description: FILTER_DESCRIPTION });

const ListResult = z
  .object({
    rows: QueryResultSchema.shape.rows,
    columns: z.array(z.string()),
    limit: z.number().int(),
    offset: z.number().int(),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next page; null on the last page" }),
    total: z.number().int().optional(),
  })
  .openapi("RowPage");

export const route = createRoute({
  ...manifestRoute("rows/list"),
  summary: "Read rows: filters, order, limit/offset or cursor pagination",
  description: FILTER_DESCRIPTION,
  tags: ["Rows"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam, table: TableNameParam }),
    query: ListQuery,
  },
  responses: {
    200: { description: "A page of rows", content: { "application/json": { schema: ListResult } } },
    ...problems(...DATA_ERRORS),
  },
});

export type ListRowsResponse = z.infer<typeof ListResult>;

const encodeCursor = (rowid: string) => btoa(JSON.stringify({ r: rowid })).replace(/=+$/, "");
function decodeCursor(cursor: string): bigint {
  try {
    const { r } = JSON.parse(atob(cursor)) as { r: unknown };
    if (typeof r === "string" && /^-?\d+$/.test(r)) return BigInt(r);
  } catch {
    // fall through
  }
  throw new ApiError("BAD_REQUEST", "Invalid cursor");
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name, table } = c.req.valid("param");
  const { limit = 100, offset = 0, ...query } = c.req.valid("query");
  const page = await withDatabase(callerOf(c), name, async ({ client }) => {
    const info = await tableForRows(client, table, false);
    const where = parseFilters(c.req.queries(), RESERVED, info.columns);
    const select = query.select
      ? query.select
          .split(",")
          .map((col) => columnIdent(info, col.trim()))
          .join(", ")
      : "*";
    // Keyset pagination by rowid in the default order, when the table has one.
    const keyset = !query.order && !info.withoutRowid && info.type === "table";
    let sql = `SELECT ${keyset ? `rowid AS ${ROWID}, ` : ""}${select} FROM ${quoteIdent(info.name)}${where.sql}`;
    const args = [...where.args];
    if (query.cursor) {
      if (!keyset)
        throw new ApiError("BAD_REQUEST", "cursor works only with the default order (use offset)");
      sql += `${where.sql ? " AND" : " WHERE"} rowid > ?`;
      args.push(decodeCursor(query.cursor));
    }
    if (keyset) sql += " ORDER BY rowid";
    else if (query.order) {
      const terms = query.order.split(",").map((term) => {
        const t = term.trim();
        const desc = t.startsWith("-") || /\.desc$/i.test(t);
        const column = t.replace(/^-/, "").replace(/\.(asc|desc)$/i, "");
        return `${columnIdent(info, column)} ${desc ? "DESC" : "ASC"}`;
      });
      sql += ` ORDER BY ${terms.join(", ")}`;
    }
    sql += " LIMIT ? OFFSET ?";
    args.push(BigInt(limit), BigInt(query.cursor ? 0 : offset));
    const statements = [{ sql, args }];
    if (query.count === "true") {
      statements.push({
        sql: `SELECT count(*) AS n FROM ${quoteIdent(info.name)}${where.sql}`,
        args: where.args,
      });
    }
    const [rs, count] = await client.batch(statements, "read");
    if (!rs) throw new Error("batch returned no result");
    // With keyset pagination the first column is the rowid; it is cut off before the rows
    // become objects, so a table column named like its alias keeps its name and value.
    const arrays = toArrayRows(rs);
    const skip = keyset ? 1 : 0;
    const columns = rs.columns.slice(skip);
    let nextCursor: string | null = null;
    const last = arrays.at(-1);
    if (keyset && last && arrays.length === limit) nextCursor = encodeCursor(String(last[0]));
    return {
      rows: toObjectRows(
        columns,
        arrays.map((row) => row.slice(skip)),
      ),
      columns,
      limit: limit,
      offset: query.cursor ? 0 : offset,
      nextCursor,
      ...(count ? { total: Number(count.rows[0]?.[0] ?? 0) } : {}),
    };
  });
  return c.json(page, 200);
};

export default createFunctionApp().openapi(route, handler);
