import { ApiError } from "../../core/errors";
import { type HranaClient, rowObjects } from "./hrana/client";
import { quoteIdent } from "./sql";
import { toJsonValue } from "./values";

export interface ColumnInfo {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  /** Position in the primary key (1-based), 0 if not part of it. */
  primaryKey: number;
  hidden: boolean;
}

export interface TableInfo {
  name: string;
  type: "table" | "view";
  sql: string | null;
  withoutRowid: boolean;
  strict: boolean;
  columns: ColumnInfo[];
  indexes: Array<{ name: string; unique: boolean; origin: string; columns: string[] }>;
  foreignKeys: Array<{
    from: string;
    table: string;
    to: string | null;
    onUpdate: string;
    onDelete: string;
  }>;
}

const EMPTY = {
  columns: [],
  columnTypes: [],
  rows: [],
  rowsAffected: 0,
  lastInsertRowid: undefined,
};

/** Everything about one table (or view), from SQLite's catalog; TABLE_NOT_FOUND if absent. */
export async function describeTable(client: HranaClient, table: string): Promise<TableInfo> {
  const t = quoteIdent(table);
  const [master, list, columns, indexes, foreignKeys] = await client.batch(
    [
      {
        sql: "SELECT type, sql FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')",
        args: [table],
      },
      {
        sql: "SELECT wr, strict FROM pragma_table_list WHERE name = ? AND schema = 'main'",
        args: [table],
      },
      `PRAGMA table_xinfo(${t})`,
      `PRAGMA index_list(${t})`,
      `PRAGMA foreign_key_list(${t})`,
    ],
    "read",
  );
  const row = master && rowObjects(master)[0];
  if (!row) throw new ApiError("TABLE_NOT_FOUND", `No table named "${table}"`);
  const indexList = indexes ? rowObjects(indexes) : [];
  const indexColumns = indexList.length
    ? await client.batch(
        indexList.map((ix) => `PRAGMA index_info(${quoteIdent(String(ix.name))})`),
        "read",
      )
    : [];
  return {
    name: table,
    type: row.type === "view" ? "view" : "table",
    sql: row.sql === null ? null : String(row.sql),
    withoutRowid: Number((list && rowObjects(list)[0]?.wr) ?? 0) === 1,
    strict: Number((list && rowObjects(list)[0]?.strict) ?? 0) === 1,
    columns: (columns ? rowObjects(columns) : []).map((c) => ({
      name: String(c.name),
      type: String(c.type ?? ""),
      notNull: Number(c.notnull) === 1,
      default: c.dflt_value === null ? null : String(c.dflt_value),
      primaryKey: Number(c.pk),
      hidden: Number(c.hidden) !== 0,
    })),
    indexes: indexList.map((ix, i) => ({
      name: String(ix.name),
      unique: Number(ix.unique) === 1,
      origin: String(ix.origin),
      columns: rowObjects(indexColumns[i] ?? EMPTY).map((r) => String(toJsonValue(r.name ?? null))),
    })),
    foreignKeys: (foreignKeys ? rowObjects(foreignKeys) : []).map((fk) => ({
      from: String(fk.from),
      table: String(fk.table),
      to: fk.to === null ? null : String(fk.to),
      onUpdate: String(fk.on_update),
      onDelete: String(fk.on_delete),
    })),
  };
}
