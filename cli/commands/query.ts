import { analyzeSql } from "../../core/sql/analyze";
import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";

/** Runs each statement of `sql` in order, printing a table (or JSON) per result. */
export async function runSql(
  config: CliConfig,
  db: string,
  sql: string,
  options: { json: boolean; params?: unknown },
): Promise<void> {
  const api = apiClient(config);
  const statements = analyzeSql(sql).map((s) => s.sql);
  if (statements.length === 0) throw new Error("nothing to run");
  for (const statement of statements) {
    const started = performance.now();
    const result = await unwrap(
      api.POST("/api/db/{name}/query", {
        params: { path: { name: db } },
        body: {
          sql: statement,
          rowMode: "array",
          ...(options.params !== undefined ? { params: options.params as never } : {}),
        },
      }),
    );
    const ms = (performance.now() - started).toFixed(1);
    if (options.json) {
      console.log(JSON.stringify(result));
      continue;
    }
    if (result.columns.length > 0) {
      console.log(renderTable(result.columns, result.rows as unknown[][]));
      console.log(`${result.rows.length} row${result.rows.length === 1 ? "" : "s"} (${ms} ms)`);
    } else {
      console.log(
        `${result.rowsAffected} row${result.rowsAffected === 1 ? "" : "s"} affected (${ms} ms)`,
      );
    }
  }
}

export async function queryCommand(
  config: CliConfig,
  args: string[],
  flags: { json: boolean; params?: string },
): Promise<void> {
  const [db, sql] = args;
  if (!db || !sql)
    throw new Error('usage: dbforge query <db> "SQL" [--params \'[1, "a"]\'] [--json]');
  let params: unknown;
  if (flags.params !== undefined) {
    try {
      params = JSON.parse(flags.params);
    } catch {
      throw new Error("--params must be JSON: an array or an object");
    }
  }
  await runSql(config, db, sql, { json: flags.json, params });
}
