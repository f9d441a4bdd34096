import { describe, expect, test } from "vitest";
import type { ResultSet, Value } from "./hrana/client";
import { objectKeys, toArrayRows, toObjectRows, toQueryResult } from "./results";

/** A ResultSet as the worker client returns it (rows are arrays). */
function resultSet(
  columns: string[],
  rows: Value[][],
  extra: Partial<Pick<ResultSet, "rowsAffected" | "lastInsertRowid">> = {},
): ResultSet {
  return {
    columns,
    columnTypes: columns.map(() => ""),
    rows,
    rowsAffected: extra.rowsAffected ?? 0,
    lastInsertRowid: extra.lastInsertRowid,
  };
}

describe("objectKeys: the duplicate-column rule", () => {
  test("distinct names are kept as they are", () => {
    expect(objectKeys(["id", "name", "ID"])).toEqual(["id", "name", "ID"]);
  });

  test("the first column keeps its name; later ones get :1, :2, …", () => {
    expect(objectKeys(["x", "x"])).toEqual(["x", "x:1"]);
    expect(objectKeys(["id", "a", "id", "b", "id"])).toEqual(["id", "a", "id:1", "b", "id:2"]);
  });

  test("a suffix that is a real column name is skipped, wherever that column comes", () => {
    expect(objectKeys(["x", "x", "x:1"])).toEqual(["x", "x:2", "x:1"]);
    expect(objectKeys(["x", "x:1", "x", "x:2", "x"])).toEqual(["x", "x:1", "x:3", "x:2", "x:4"]);
  });

  test("a real column repeated is itself suffixed, never colliding", () => {
    const keys = objectKeys(["x", "x:1", "x", "x:1"]);
    expect(keys).toEqual(["x", "x:1", "x:2", "x:1:1"]);
  });

  test("keys are always pairwise distinct", () => {
    const columns = ["a", "a:1", "a", "a", "a:2", "a:1", "", "", ":1"];
    const keys = objectKeys(columns);
    expect(keys).toHaveLength(columns.length);
    expect(new Set(keys).size).toBe(columns.length);
    expect(keys).toEqual(["a", "a:1", "a:3", "a:4", "a:2", "a:1:1", "", ":2", ":1"]);
  });
});

describe("toQueryResult", () => {
  test("SELECT 1 AS x, 2 AS x keeps both values", () => {
    const result = toQueryResult(resultSet(["x", "x"], [[1n, 2n]]));
    expect(result.columns).toEqual(["x", "x"]);
    expect(result.rows).toEqual([{ x: 1, "x:1": 2 }]);
  });

  test("a join of two tables with an id keeps both ids", () => {
    const rs = resultSet(
      ["id", "name", "id", "user_id"],
      [
        [1n, "ada", 10n, 1n],
        [2n, "bob", 11n, 2n],
      ],
    );
    expect(toQueryResult(rs).rows).toEqual([
      { id: 1, name: "ada", "id:1": 10, user_id: 1 },
      { id: 2, name: "bob", "id:1": 11, user_id: 2 },
    ]);
  });

  test("rowMode array keeps rows as arrays, in column order", () => {
    const result = toQueryResult(resultSet(["x", "x"], [[1n, 2n]]), "array");
    expect(result.rows).toEqual([[1, 2]]);
  });

  test("a column named __proto__ is an own key, not the row's prototype", () => {
    const [row] = toQueryResult(resultSet(["__proto__", "a"], [[1n, 2n]])).rows;
    expect(Object.keys(row as object)).toEqual(["__proto__", "a"]);
    expect(JSON.stringify(row)).toBe('{"__proto__":1,"a":2}');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  test("values are encoded; counts and lastInsertRowid carried over", () => {
    const blob = new Uint8Array([0, 1, 2]).buffer;
    const rs = resultSet(
      ["i", "big", "r", "t", "n", "b"],
      [[7n, 2n ** 60n, 1.5, "t", null, blob]],
      {
        rowsAffected: 3,
        lastInsertRowid: 2n ** 62n,
      },
    );
    expect(toQueryResult(rs)).toEqual({
      columns: ["i", "big", "r", "t", "n", "b"],
      columnTypes: ["", "", "", "", "", ""],
      rows: [
        {
          i: 7,
          big: "1152921504606846976",
          r: 1.5,
          t: "t",
          n: null,
          b: { type: "blob", base64: "AAEC" },
        },
      ],
      rowsAffected: 3,
      lastInsertRowid: "4611686018427387904",
    });
  });

  test("lastInsertRowid is null when there is none, a number when small", () => {
    expect(toQueryResult(resultSet([], [])).lastInsertRowid).toBeNull();
    expect(toQueryResult(resultSet([], [], { lastInsertRowid: 5n })).lastInsertRowid).toBe(5);
  });
});

describe("toArrayRows / toObjectRows", () => {
  test("a missing value is null", () => {
    expect(toArrayRows(resultSet(["a", "b"], [[1n]]))).toEqual([[1, null]]);
    expect(toObjectRows(["a", "b"], [[1]])).toEqual([{ a: 1, b: null }]);
  });

  test("object rows use the same rule as toQueryResult", () => {
    expect(
      toObjectRows(
        ["id", "id", "id:1"],
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ),
    ).toEqual([
      { id: 1, "id:2": 2, "id:1": 3 },
      { id: 4, "id:2": 5, "id:1": 6 },
    ]);
  });
});
