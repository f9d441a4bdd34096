import { ApiError } from "../../core/errors";
import type { InValue } from "./hrana/client";
import { quoteIdent } from "./sql";
import type { ColumnInfo } from "./tables";

/**
 * Row filters from the query string, PostgREST style: `?age=gt.30&name=eq.ada`,
 * `?deleted_at=is.null`, `?id=in.(1,2,3)`; a bare value means `eq`. Parameters that clash with
 * the route's own (limit, order, ...) can be written `where.<column>=...`. Every column must
 * exist; values are always bound, never interpolated.
 */
// A Map, not an object literal: the operator is user input, and `op in {...}` would also find
// the prototype's names (`?name=constructor.x` must be an equality match, not an operator).
const OPERATORS: ReadonlyMap<string, string> = new Map([
  ["eq", "="],
  ["neq", "!="],
  ["gt", ">"],
  ["gte", ">="],
  ["lt", "<"],
  ["lte", "<="],
  ["like", "LIKE"],
  ["glob", "GLOB"],
]);

export interface Where {
  sql: string;
  args: InValue[];
}

export const FILTER_DESCRIPTION =
  "Filters: `<column>=<op>.<value>` with op one of eq, neq, gt, gte, lt, lte, like, glob, in (`in.(a,b)`), is (`is.null`, `is.notnull`); a bare value means eq. Use `where.<column>=...` for columns named like a reserved parameter.";

export function parseFilters(
  query: Record<string, string[]>,
  reserved: ReadonlySet<string>,
  columns: ColumnInfo[],
): Where {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const clauses: string[] = [];
  const args: InValue[] = [];
  for (const [key, values] of Object.entries(query)) {
    if (reserved.has(key)) continue;
    const name = key.startsWith("where.") ? key.slice("where.".length) : key;
    const column = byName.get(name.toLowerCase());
    if (!column) throw new ApiError("BAD_REQUEST", `Unknown column "${name}" in filter`);
    const ident = quoteIdent(column.name);
    for (const raw of values) {
      const dot = raw.indexOf(".");
      const op = dot > 0 ? raw.slice(0, dot) : "";
      const value = dot > 0 ? raw.slice(dot + 1) : raw;
      if (op === "is") {
        if (value !== "null" && value !== "notnull")
          throw new ApiError("BAD_REQUEST", `Use is.null or is.notnull, not is.${value}`);
        clauses.push(`${ident} IS ${value === "null" ? "NULL" : "NOT NULL"}`);
      } else if (op === "in") {
        const match = /^\((.*)\)$/.exec(value);
        if (!match) throw new ApiError("BAD_REQUEST", `Use in.(a,b,c) for "${name}"`);
        const items = (match[1] ?? "").split(",").filter((v) => v !== "");
        if (items.length === 0)
          throw new ApiError("BAD_REQUEST", `in.() needs at least one value for "${name}"`);
        clauses.push(`${ident} IN (${items.map(() => "?").join(", ")})`);
        args.push(...items.map((item) => filterValue(item, column)));
      } else if (OPERATORS.has(op)) {
        clauses.push(`${ident} ${OPERATORS.get(op)} ?`);
        args.push(filterValue(value, column));
      } else {
        // Not an operator (or no dot at all): the whole text is the value, `eq`.
        clauses.push(`${ident} = ?`);
        args.push(filterValue(raw, column));
      }
    }
  }
  return { sql: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", args };
}

/**
 * Query strings only carry text. Numbers are bound as numbers unless the column has TEXT
 * affinity, so `?age=30` finds 30 even in a column declared without a type. Integers that fit
 * 64 bits bind as INTEGER, other numbers as REAL; a number beyond a double's range (`1e400`)
 * stays text, as a non-finite REAL cannot be bound (SQLite still applies the column's affinity
 * to the text when comparing).
 */
function filterValue(text: string, column: ColumnInfo): InValue {
  if (/CHAR|CLOB|TEXT/i.test(column.type)) return text;
  if (/^-?\d{1,15}$/.test(text)) return BigInt(text);
  if (/^-?\d{16,19}$/.test(text)) {
    const n = BigInt(text);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return n;
  }
  if (/^-?(\d+\.\d*|\.\d+|\d+)(e[+-]?\d+)?$/i.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
  }
  return text;
}
