import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { bearerSecurity, DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsEnv } from "../lib/context";
import { callerOf, withDatabase } from "../lib/database";
import { DATA_ERRORS } from "../lib/schemas";
import { quoteIdent, sqlLiteral } from "../lib/sql";
import { describeTable } from "../lib/tables";
import { manifestRoute } from "../route-table";
import { TableSchema } from "./get";

/** SQL expressions allowed as defaults besides literals. */
const DEFAULT_EXPRESSIONS = ["CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"] as const;
const FK_ACTIONS = ["CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"] as const;

/**
 * Words that start a column constraint in SQLite's grammar. The type pattern admits several
 * words (`UNSIGNED BIG INT`, `DOUBLE PRECISION`), so without this `"TEXT PRIMARY KEY"` or
 * `"INTEGER AS (1)"` would add constraints and generated columns past the spec's own checks.
 */
const CONSTRAINT_WORDS = new Set([
  "AS",
  "CHECK",
  "COLLATE",
  "CONSTRAINT",
  "DEFAULT",
  "DEFERRABLE",
  "GENERATED",
  "NOT",
  "NULL",
  "PRIMARY",
  "REFERENCES",
  "UNIQUE",
]);

const isTypeName = (type: string): boolean =>
  !type
    .toUpperCase()
    .split(/[\s(]+/)
    .some((word) => CONSTRAINT_WORDS.has(word));

const ColumnSpec = z
  .object({
    name: z.string().min(1).max(128),
    type: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/,
        "a SQLite type name like INTEGER, TEXT, VARCHAR(20)",
      )
      .refine(isTypeName, "a type name only: use the column's own fields for constraints")
      .optional()
      .openapi({ example: "TEXT", description: "Default: none (ANY in a STRICT table)" }),
    primaryKey: z.boolean().optional(),
    autoIncrement: z
      .boolean()
      .optional()
      .openapi({ description: "Only for a single INTEGER primary key" }),
    notNull: z.boolean().optional(),
    unique: z.boolean().optional(),
    default: z
      .union([
        z.string(),
        z.number(),
        z.boolean(),
        z.null(),
        z.object({ expression: z.enum(DEFAULT_EXPRESSIONS) }),
      ])
      .optional()
      .openapi({ description: 'A literal, or {"expression": "CURRENT_TIMESTAMP"}' }),
    references: z
      .object({
        table: z.string().min(1).max(128),
        column: z.string().min(1).max(128).optional(),
        onDelete: z.enum(FK_ACTIONS).optional(),
        onUpdate: z.enum(FK_ACTIONS).optional(),
      })
      .optional(),
  })
  .openapi("ColumnSpec");

const CreateTableBody = z
  .object({
    name: z.string().min(1).max(128).openapi({ example: "users" }),
    columns: z.array(ColumnSpec).min(1).max(2000),
    ifNotExists: z.boolean().optional(),
    strict: z.boolean().optional().openapi({ description: "A STRICT table (types enforced)" }),
    withoutRowid: z.boolean().optional(),
  })
  .openapi("CreateTableRequest");

export const route = createRoute({
  ...manifestRoute("tables/create"),
  summary: "Create a table from a column spec",
  tags: ["Tables"],
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: { required: true, content: { "application/json": { schema: CreateTableBody } } },
  },
  responses: {
    201: { description: "The new table", content: { "application/json": { schema: TableSchema } } },
    ...problems(...DATA_ERRORS),
  },
});

export type CreateTableRequest = z.input<typeof CreateTableBody>;
export type CreateTableResponse = z.infer<typeof TableSchema>;

/** CREATE TABLE from the spec: every name quoted, every default a literal or an allowed keyword. */
export function createTableSql(spec: z.infer<typeof CreateTableBody>): string {
  const names = new Set<string>();
  for (const column of spec.columns) {
    const key = column.name.toLowerCase();
    if (names.has(key)) throw new ApiError("BAD_REQUEST", `Column "${column.name}" appears twice`);
    names.add(key);
  }
  const keyColumns = spec.columns.filter((c) => c.primaryKey);
  const inlineKey = keyColumns.length === 1;
  const definitions = spec.columns.map((column) => {
    const type = column.type ?? (spec.strict ? "ANY" : "");
    const parts = type ? [quoteIdent(column.name), type] : [quoteIdent(column.name)];
    if (column.primaryKey && inlineKey) parts.push("PRIMARY KEY");
    if (column.autoIncrement) {
      if (!(column.primaryKey && inlineKey && /^INTEGER$/i.test(type))) {
        throw new ApiError(
          "BAD_REQUEST",
          `autoIncrement needs "${column.name}" to be the only primary key, of type INTEGER`,
        );
      }
      parts.push("AUTOINCREMENT");
    }
    if (column.notNull) parts.push("NOT NULL");
    if (column.unique) parts.push("UNIQUE");
    if (column.default !== undefined) {
      const value = column.default;
      parts.push(
        "DEFAULT",
        typeof value === "object" && value !== null ? value.expression : sqlLiteral(value),
      );
    }
    if (column.references) {
      const ref = column.references;
      parts.push("REFERENCES", quoteIdent(ref.table));
      if (ref.column) parts.push(`(${quoteIdent(ref.column)})`);
      if (ref.onDelete) parts.push("ON DELETE", ref.onDelete);
      if (ref.onUpdate) parts.push("ON UPDATE", ref.onUpdate);
    }
    return parts.join(" ");
  });
  if (keyColumns.length > 1)
    definitions.push(`PRIMARY KEY (${keyColumns.map((c) => quoteIdent(c.name)).join(", ")})`);
  if (spec.withoutRowid && keyColumns.length === 0)
    throw new ApiError("BAD_REQUEST", "A WITHOUT ROWID table needs a primary key");
  const options = [spec.strict ? "STRICT" : "", spec.withoutRowid ? "WITHOUT ROWID" : ""]
    .filter(Boolean)
    .join(", ");
  return `CREATE TABLE ${spec.ifNotExists ? "IF NOT EXISTS " : ""}${quoteIdent(spec.name)} (${definitions.join(", ")})${options ? ` ${options}` : ""}`;
}

export const handler: RouteHandler<typeof route, FunctionsEnv> = async (c) => {
  const { name } = c.req.valid("param");
  const spec = c.req.valid("json");
  const sql = createTableSql(spec);
  const table = await withDatabase(callerOf(c), name, async ({ client }) => {
    try {
      await client.execute(sql);
    } catch (err) {
      if (/already exists/.test(String((err as Error).message))) {
        throw new ApiError("TABLE_EXISTS", `A table named "${spec.name}" already exists`);
      }
      throw err;
    }
    return describeTable(client, spec.name);
  });
  return c.json(table, 201);
};

export default createFunctionApp().openapi(route, handler);
