import { describe, expect, test } from "vitest";
import {
  analyzeSql,
  endsWithCompleteStatement,
  isPureQuery,
  leavesConnectionState,
} from "./analyze";

const sqlOf = (sql: string) => analyzeSql(sql).map((s) => s.sql);

describe("statement splitting", () => {
  test("semicolons in strings, identifiers and comments do not split", () => {
    expect(sqlOf(`SELECT ';' AS "a;b", [c;d], \`e;f\` -- x; y\n; SELECT 2 /* ; */`)).toEqual([
      `SELECT ';' AS "a;b", [c;d], \`e;f\``,
      "SELECT 2",
    ]);
  });

  test("empty statements and trailing whitespace are dropped", () => {
    expect(sqlOf(" ;; SELECT 1 ;  ; ")).toEqual(["SELECT 1"]);
    expect(sqlOf("  -- only a comment ")).toEqual([]);
  });

  test("trigger bodies stay whole, CASE ... END inside them included", () => {
    const trigger = `CREATE TEMP TRIGGER t AFTER INSERT ON x BEGIN
      UPDATE y SET v = CASE WHEN NEW.a THEN 1 ELSE 2 END;
      INSERT INTO z VALUES (1);
    END`;
    expect(sqlOf(`${trigger}; SELECT 1`)).toEqual([trigger, "SELECT 1"]);
  });

  test("quotes with doubled escapes and unterminated input", () => {
    expect(sqlOf("SELECT 'it''s;'; SELECT 'open")).toEqual(["SELECT 'it''s;'", "SELECT 'open"]);
  });
});

describe("parameters", () => {
  const params = (sql: string) => {
    const [stmt] = analyzeSql(sql);
    return { count: stmt?.params.count, names: Object.fromEntries(stmt?.params.names ?? []) };
  };

  test("numbered as SQLite numbers them", () => {
    expect(params("SELECT ?, ?, ?")).toEqual({ count: 3, names: {} });
    expect(params("SELECT ?5, ?")).toEqual({ count: 6, names: {} });
    expect(params("SELECT :a, @b, :a, $c, ?")).toEqual({
      count: 4,
      names: { 1: ":a", 2: "@b", 3: "$c" },
    });
    expect(params("SELECT $x::y(z), ':not' -- :nor\n")).toEqual({
      count: 1,
      names: { 1: "$x::y(z)" },
    });
  });
});

describe("classification", () => {
  const first = (sql: string) => analyzeSql(sql)[0]!;
  test("pure queries and connection state", () => {
    expect(isPureQuery(first("select 1"))).toBe(true);
    expect(isPureQuery(first("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"))).toBe(false);
    expect(leavesConnectionState(first("PRAGMA foreign_keys = off"))).toBe(true);
    expect(leavesConnectionState(first("PRAGMA foreign_keys"))).toBe(false);
    expect(leavesConnectionState(first("CREATE TEMP TABLE t (x)"))).toBe(true);
    expect(leavesConnectionState(first("CREATE TABLE t (x)"))).toBe(false);
  });
});

describe("endsWithCompleteStatement", () => {
  test("waits for the semicolon, outside strings and trigger bodies", () => {
    expect(endsWithCompleteStatement("SELECT 1")).toBe(false);
    expect(endsWithCompleteStatement("SELECT 1;")).toBe(true);
    expect(endsWithCompleteStatement("SELECT ';")).toBe(false);
    expect(endsWithCompleteStatement("CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  SELECT 1;")).toBe(
      false,
    );
    expect(
      endsWithCompleteStatement("CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  SELECT 1;\nEND;"),
    ).toBe(true);
    expect(endsWithCompleteStatement("SELECT 1; -- done")).toBe(true);
  });
});
