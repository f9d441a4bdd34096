/**
 * The REST routes' Hrana client against a real worker, side by side with @libsql/client on the
 * same database: the same results for the same statements (values, 64-bit integers, blobs,
 * named parameters), and the same batch semantics (all or nothing, the first error thrown,
 * read-only batches refuse writes), over both transports.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir } from "../../../testkit/temp";
import { startWorkerProcess, testKeys, type WorkerProcess } from "../../../testkit/worker";
import { undiciTransport } from "../../host/undici-transport";
import { type HranaClient, HranaError, hranaClient, type ResultSet } from "./client";
import { fetchTransport } from "./transport";

const keys = testKeys();
let worker: WorkerProcess;
const undici = undiciTransport();
beforeAll(async () => {
  worker = await startWorkerProcess({ env: { SQLD_AUTH_JWT_KEY: keys.publicPem } });
});
afterAll(async () => {
  await undici.close();
  await worker.stop();
  removeDir(worker.dataDir);
});

/** @libsql/client's answer in the client's shape (rows as arrays). */
async function reference(sql: string, args?: never): Promise<ResultSet> {
  const client = createClient({ url: worker.url, authToken: keys.token(), intMode: "bigint" });
  try {
    const rs = await client.execute(args === undefined ? sql : { sql, args });
    return {
      columns: rs.columns,
      columnTypes: rs.columnTypes,
      rows: rs.rows.map((row) => Array.from({ length: row.length }, (_, i) => row[i] ?? null)),
      rowsAffected: rs.rowsAffected,
      lastInsertRowid: rs.lastInsertRowid,
    };
  } finally {
    client.close();
  }
}

describe.each([
  ["undici", () => undici],
  ["fetch", () => fetchTransport],
] as const)("over %s", (name, transport) => {
  let db: HranaClient;
  const table = `t_${name}`;
  beforeAll(() => {
    db = hranaClient(transport(), worker.url, keys.token());
  });

  test("values come back as @libsql/client gives them", async () => {
    await db.execute(`CREATE TABLE ${table} (i INTEGER, r REAL, t TEXT, b BLOB, n)`);
    const big = 9223372036854775807n;
    const inserted = await db.execute({
      sql: `INSERT INTO ${table} VALUES (?, ?, ?, ?, ?)`,
      args: [big, 1.5, "héllo ✓", new Uint8Array([0, 1, 255]), null],
    });
    expect(inserted.rowsAffected).toBe(1);
    expect(inserted.lastInsertRowid).toBe(1n);
    await db.execute({
      sql: `INSERT INTO ${table} (i, t) VALUES (:i, @t)`,
      args: { i: -(2n ** 63n), t: "named" },
    });
    for (const sql of [
      `SELECT * FROM ${table} ORDER BY rowid`,
      `SELECT count(*) AS n, sum(r), typeof(b), 1 AS x, 2 AS x FROM ${table}`,
      "SELECT 1e999, -1e999, 0.1 + 0.2",
    ]) {
      expect(await db.execute(sql), sql).toEqual(await reference(sql));
    }
    const [row] = (await db.execute(`SELECT b FROM ${table} LIMIT 1`)).rows;
    expect([...new Uint8Array(row?.[0] as ArrayBuffer)]).toEqual([0, 1, 255]);
  });

  test("a batch is all or nothing, and throws its first error", async () => {
    const results = await db.batch(
      [`INSERT INTO ${table} (i) VALUES (10)`, { sql: "SELECT ? AS v", args: [7n] }],
      "write",
    );
    expect(results.map((r) => r.rows)).toEqual([[], [[7n]]]);
    const before = (await db.execute(`SELECT count(*) FROM ${table}`)).rows[0]?.[0];
    const failed = await db
      .batch(
        [
          `INSERT INTO ${table} (i) VALUES (11)`,
          "SELECT * FROM no_such_table",
          `INSERT INTO ${table} (i) VALUES (12)`,
        ],
        "write",
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(failed).toBeInstanceOf(HranaError);
    expect((failed as HranaError).code).toBe("SQLITE_ERROR");
    expect((failed as HranaError).message).toMatch(/no such table: no_such_table/);
    expect((await db.execute(`SELECT count(*) FROM ${table}`)).rows[0]?.[0]).toBe(before);
    // A read batch refuses writes; nothing is left open behind it.
    const readOnly = await db.batch([`DELETE FROM ${table}`], "read").then(
      () => undefined,
      (e: unknown) => e as HranaError,
    );
    expect(readOnly?.code).toMatch(/SQLITE_READONLY|SQLITE_ERROR/);
    expect((await db.execute(`SELECT count(*) FROM ${table}`)).rows[0]?.[0]).toBe(before);
  });

  test("errors carry the worker's code; a bad token is a 401", async () => {
    const syntax = await db.execute("SELEC 1").then(
      () => undefined,
      (e: unknown) => e as HranaError,
    );
    expect(syntax?.code).toBe("SQL_PARSE_ERROR");
    const stranger = hranaClient(transport(), worker.url, testKeys().token());
    const denied = await stranger.execute("SELECT 1").then(
      () => undefined,
      (e: unknown) => e as HranaError,
    );
    expect(denied?.code).toBe("AUTH_JWT_INVALID");
    expect(denied?.status).toBe(401);
  });
});

test("a worker that is not there: the undici transport fails like fetch (connection refused)", async () => {
  const gone = hranaClient(undici, "http://127.0.0.1:9", keys.token());
  const err = await gone.execute("SELECT 1").then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  expect(err).toBeInstanceOf(Error);
  expect(String(err?.code ?? err?.message)).toMatch(/ECONNREFUSED/);
});
