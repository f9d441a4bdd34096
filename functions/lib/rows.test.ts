import { describe, expect, test } from "vitest";
import { ApiError } from "../../core/errors";
import { columnIdent, FilteredWriteQuery, writeFilter } from "./rows";
import type { ColumnInfo, TableInfo } from "./tables";

const column = (name: string): ColumnInfo => ({
  name,
  type: "",
  notNull: false,
  default: null,
  primaryKey: 0,
  hidden: false,
});

const TABLE: TableInfo = {
  name: "people",
  type: "table",
  sql: null,
  withoutRowid: false,
  strict: false,
  columns: [column("id"), column("Name"), column("all")],
  indexes: [],
  foreignKeys: [],
};

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError");
}

describe("columnIdent", () => {
  test("finds a column case-insensitively and quotes its declared name", () => {
    expect(columnIdent(TABLE, "name")).toBe('"Name"');
    expect(columnIdent(TABLE, "ID")).toBe('"id"');
  });

  test("an unknown column (prototype names included) is BAD_REQUEST", () => {
    for (const name of ["nope", "constructor", "__proto__"]) {
      const err = apiError(() => columnIdent(TABLE, name));
      expect(err.code).toBe("BAD_REQUEST");
      expect(err.message).toBe(`Table "people" has no column "${name}"`);
    }
  });
});

describe("writeFilter (UPDATE / DELETE by filter)", () => {
  test("filters become the WHERE clause", () => {
    expect(writeFilter({ id: ["gt.5"] }, TABLE, "delete")).toEqual({
      sql: ` WHERE "id" > ?`,
      args: [5n],
    });
  });

  test("no filter is refused unless ?all=true", () => {
    const err = apiError(() => writeFilter({}, TABLE, "delete"));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe(
      "Refusing to delete every row without a filter; add ?all=true to really do it",
    );
    expect(apiError(() => writeFilter({ all: ["false"] }, TABLE, "update")).message).toMatch(
      /^Refusing to update every row/,
    );
    expect(writeFilter({ all: ["true"] }, TABLE, "delete")).toEqual({ sql: "", args: [] });
  });

  test("`all` is the route's parameter; where.all filters a column named all", () => {
    expect(writeFilter({ "where.all": ["1"] }, TABLE, "delete")).toEqual({
      sql: ` WHERE "all" = ?`,
      args: [1n],
    });
  });

  test("the query schema keeps filters (passthrough) and checks `all`", () => {
    expect(FilteredWriteQuery.parse({ all: "true", id: "eq.1" })).toEqual({
      all: "true",
      id: "eq.1",
    });
    expect(FilteredWriteQuery.safeParse({ all: "yes" }).success).toBe(false);
  });
});
