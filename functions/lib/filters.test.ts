import { describe, expect, test } from "vitest";
import { ApiError } from "../../core/errors";
import { parseFilters } from "./filters";
import type { ColumnInfo } from "./tables";

const column = (name: string, type = ""): ColumnInfo => ({
  name,
  type,
  notNull: false,
  default: null,
  primaryKey: 0,
  hidden: false,
});

const COLUMNS = [
  column("id", "INTEGER"),
  column("name", "TEXT"),
  column("age"),
  column("Score", "REAL"),
  column("limit", "INTEGER"),
];
const RESERVED = new Set(["limit", "order"]);

const parse = (query: Record<string, string[]>) => parseFilters(query, RESERVED, COLUMNS);

/** The ApiError `fn` throws (fails the test if it throws nothing or something else). */
function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError");
}

describe("parseFilters", () => {
  test("no filter is no WHERE clause", () => {
    expect(parse({})).toEqual({ sql: "", args: [] });
  });

  test.each([
    ["eq", "="],
    ["neq", "!="],
    ["gt", ">"],
    ["gte", ">="],
    ["lt", "<"],
    ["lte", "<="],
    ["like", "LIKE"],
    ["glob", "GLOB"],
  ])("%s.<value> is %s", (op, sql) => {
    expect(parse({ age: [`${op}.30`] })).toEqual({ sql: ` WHERE "age" ${sql} ?`, args: [30n] });
  });

  test("a bare value means eq, and the whole text is the value", () => {
    expect(parse({ name: ["ada"] })).toEqual({ sql: ` WHERE "name" = ?`, args: ["ada"] });
    expect(parse({ name: ["a.b"] })).toEqual({ sql: ` WHERE "name" = ?`, args: ["a.b"] });
    expect(parse({ name: [".x"] })).toEqual({ sql: ` WHERE "name" = ?`, args: [".x"] });
    expect(parse({ name: ["eq."] })).toEqual({ sql: ` WHERE "name" = ?`, args: [""] });
    // The README's escape for a value that starts with an operator's name.
    expect(parse({ name: ["eq.gt.5"] })).toEqual({ sql: ` WHERE "name" = ?`, args: ["gt.5"] });
  });

  test("operators are case-sensitive: EQ.x is the value EQ.x", () => {
    expect(parse({ name: ["EQ.x"] }).args).toEqual(["EQ.x"]);
  });

  test.each(["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"])(
    "%s.x (an Object.prototype name) is an equality match, not an operator",
    (proto) => {
      expect(parse({ name: [`${proto}.x`] })).toEqual({
        sql: ` WHERE "name" = ?`,
        args: [`${proto}.x`],
      });
    },
  );

  test("filters on several columns and repeated ones are ANDed, in order", () => {
    expect(parse({ age: ["gte.18", "lt.65"], name: ["like.a%"] })).toEqual({
      sql: ` WHERE "age" >= ? AND "age" < ? AND "name" LIKE ?`,
      args: [18n, 65n, "a%"],
    });
  });

  test("in.(…) binds every item", () => {
    expect(parse({ id: ["in.(1,2,3)"] })).toEqual({
      sql: ` WHERE "id" IN (?, ?, ?)`,
      args: [1n, 2n, 3n],
    });
    expect(parse({ name: ["in.(a,b)"] }).args).toEqual(["a", "b"]);
    // Empty items are skipped, not bound as ''.
    expect(parse({ id: ["in.(1,,2)"] }).args).toEqual([1n, 2n]);
  });

  test("is.null and is.notnull bind nothing", () => {
    expect(parse({ age: ["is.null"] })).toEqual({ sql: ` WHERE "age" IS NULL`, args: [] });
    expect(parse({ age: ["is.notnull"] })).toEqual({ sql: ` WHERE "age" IS NOT NULL`, args: [] });
  });

  test("columns match case-insensitively and are quoted with their declared name", () => {
    expect(parse({ score: ["gt.1.5"] })).toEqual({ sql: ` WHERE "Score" > ?`, args: [1.5] });
  });

  test("reserved parameters are skipped; where.<col> reaches a column named like one", () => {
    expect(parse({ limit: ["10"], order: ["id"] })).toEqual({ sql: "", args: [] });
    expect(parse({ "where.limit": ["eq.10"] })).toEqual({
      sql: ` WHERE "limit" = ?`,
      args: [10n],
    });
  });

  test("identifiers with quotes stay quoted (no injection through a column name)", () => {
    const where = parseFilters({ 'a"b': ["1"] }, RESERVED, [column('a"b')]);
    expect(where.sql).toBe(` WHERE "a""b" = ?`);
  });

  test.each([
    [{ nope: ["1"] }, 'Unknown column "nope" in filter'],
    [{ "where.nope": ["1"] }, 'Unknown column "nope" in filter'],
    [{ age: ["is.true"] }, "Use is.null or is.notnull, not is.true"],
    [{ id: ["in.1,2"] }, 'Use in.(a,b,c) for "id"'],
    [{ id: ["in.()"] }, 'in.() needs at least one value for "id"'],
    [{ id: ["in.(,)"] }, 'in.() needs at least one value for "id"'],
  ])("%j is BAD_REQUEST: %s", (query, message) => {
    const err = apiError(() => parse(query));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.status).toBe(400);
    expect(err.message).toBe(message);
  });

  test("an unknown column named like a prototype member is refused, not matched", () => {
    expect(apiError(() => parse({ constructor: ["1"] })).code).toBe("BAD_REQUEST");
    expect(apiError(() => parse({ "where.__proto__": ["1"] })).code).toBe("BAD_REQUEST");
  });
});

describe("filter values", () => {
  const argOf = (value: string, type = "") =>
    parseFilters({ c: [`eq.${value}`] }, RESERVED, [column("c", type)]).args[0];

  test("numbers bind as INTEGER (bigint) or REAL unless the column has TEXT affinity", () => {
    expect(argOf("30")).toBe(30n);
    expect(argOf("-7")).toBe(-7n);
    expect(argOf("1.5")).toBe(1.5);
    expect(argOf(".5")).toBe(0.5);
    expect(argOf("2e3")).toBe(2000);
    expect(argOf("30", "TEXT")).toBe("30");
    expect(argOf("30", "VARCHAR(10)")).toBe("30");
    expect(argOf("30", "clob")).toBe("30");
    expect(argOf("abc", "INTEGER")).toBe("abc");
  });

  test("64-bit integers are exact; beyond them a REAL", () => {
    expect(argOf("9223372036854775807")).toBe(9223372036854775807n);
    expect(argOf("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(argOf("9223372036854775808")).toBe(2 ** 63);
  });

  test("a number beyond a double's range stays text (Infinity cannot be bound)", () => {
    expect(argOf("1e400")).toBe("1e400");
    expect(argOf("-1e400")).toBe("-1e400");
  });
});
