/**
 * The unmodified @libsql/client against a live worker process, over HTTP and WebSocket.
 */
import { type Client, createClient, type LibsqlError } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { libsqlErrorOf } from "../../testkit/libsql";
import { removeDir } from "../../testkit/temp";
import { sleep } from "../../testkit/wait";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess();
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

let tableCounter = 0;
const freshTable = (prefix: string) => `${prefix}_${++tableCounter}`;

async function expectLibsqlError(promise: Promise<unknown>, code: string): Promise<LibsqlError> {
  const err = await libsqlErrorOf(promise);
  expect(err.code).toBe(code);
  return err;
}

describe.each(["http", "ws"] as const)("@libsql/client over %s", (transport) => {
  let client: Client;
  beforeAll(() => {
    client = createClient({
      url: transport === "http" ? worker.url : worker.wsUrl,
      intMode: "bigint",
    });
  });
  afterAll(() => client.close());

  test("execute with positional and named arguments", async () => {
    const t = freshTable("args");
    await client.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, name TEXT, score REAL)`);
    await client.execute({
      sql: `INSERT INTO ${t} (name, score) VALUES (?, ?)`,
      args: ["ada", 9.5],
    });
    await client.execute({
      sql: `INSERT INTO ${t} (name, score) VALUES (?2, ?1)`,
      args: [7.25, "bob"],
    });
    await client.execute({
      sql: `INSERT INTO ${t} (name, score) VALUES (:name, @score)`,
      args: { name: "cy", score: 1 },
    });
    await client.execute({
      sql: `INSERT INTO ${t} (name, score) VALUES ($name, $name)`,
      args: { $name: "di" },
    });

    const rs = await client.execute({
      sql: `SELECT name, score FROM ${t} WHERE id >= ? ORDER BY id`,
      args: [1],
    });
    expect(rs.columns).toEqual(["name", "score"]);
    expect(rs.columnTypes).toEqual(["TEXT", "REAL"]);
    expect(rs.rows.map((r) => [r.name, r.score])).toEqual([
      ["ada", 9.5],
      ["bob", 7.25],
      ["cy", 1],
      ["di", "di"],
    ]);
  });

  test("rowsAffected and lastInsertRowid as sqld reports them", async () => {
    const t = freshTable("counts");
    await client.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v INTEGER)`);
    const insert = await client.execute(`INSERT INTO ${t} (v) VALUES (1), (2), (3)`);
    expect(insert.rowsAffected).toBe(3);
    expect(insert.lastInsertRowid).toBe(3n);
    const update = await client.execute(`UPDATE ${t} SET v = v + 1 WHERE v >= 2`);
    expect(update.rowsAffected).toBe(2);
    const select = await client.execute(`SELECT * FROM ${t}`);
    expect(select.rowsAffected).toBe(0);
    const returning = await client.execute(`INSERT INTO ${t} (v) VALUES (10) RETURNING id, v`);
    expect(returning.rowsAffected).toBe(1);
    expect(returning.rows[0]?.id).toBe(4n);
    expect(returning.lastInsertRowid).toBe(4n);
    const cte = await client.execute(
      `WITH x(n) AS (VALUES (20), (21)) INSERT INTO ${t} (v) SELECT n FROM x`,
    );
    expect(cte.rowsAffected).toBe(2);
    const del = await client.execute(`DELETE FROM ${t} WHERE v >= 20 RETURNING id`);
    expect(del.rowsAffected).toBe(2);
    expect(del.rows).toHaveLength(2);
  });

  test("integer, float, text, blob and null round trips", async () => {
    const max = 9223372036854775807n;
    const min = -9223372036854775808n;
    const rs = await client.execute({
      sql: "SELECT ? AS max, ? AS min, ? AS f, ? AS bigf, ? AS maxf, ? AS minf, ? AS t, ? AS b, ? AS e, ? AS n, typeof(?) AS ft",
      args: [
        max,
        min,
        0.5,
        1e18,
        Number.MAX_VALUE,
        Number.MIN_VALUE,
        "żółw 🐢",
        new Uint8Array([0, 255, 7]),
        new Uint8Array(),
        null,
        3,
      ],
    });
    const row = rs.rows[0]!;
    expect(row.max).toBe(max);
    expect(row.min).toBe(min);
    expect(row.f).toBe(0.5);
    // A JS number is sent as a float and must stay REAL, even when it is integral.
    expect(row.bigf).toBe(1e18);
    expect(row.ft).toBe("real");
    expect(row.maxf).toBe(Number.MAX_VALUE);
    expect(row.minf).toBe(Number.MIN_VALUE);
    expect(row.t).toBe("żółw 🐢");
    expect(new Uint8Array(row.b as ArrayBuffer)).toEqual(new Uint8Array([0, 255, 7]));
    expect((row.e as ArrayBuffer).byteLength).toBe(0);
    expect(row.n).toBeNull();

    const t = freshTable("values");
    await client.execute(`CREATE TABLE ${t} (i INTEGER, r REAL)`);
    await client.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [max, 2.5] });
    const stored = await client.execute(`SELECT i, r, typeof(i) AS ti, 1e999 AS inf FROM ${t}`);
    expect(stored.rows[0]?.i).toBe(max);
    expect(stored.rows[0]?.r).toBe(2.5);
    expect(stored.rows[0]?.ti).toBe("integer");
    expect(stored.rows[0]?.inf).toBe(Number.POSITIVE_INFINITY);
  });

  test.each(["write", "read", "deferred"] as const)("batch in %s mode", async (mode) => {
    const t = freshTable(`batch_${mode}`);
    await client.execute(`CREATE TABLE ${t} (v INTEGER)`);
    await client.execute(`INSERT INTO ${t} VALUES (1)`);
    const statements =
      mode === "read"
        ? [`SELECT count(*) AS n FROM ${t}`, `SELECT sum(v) AS s FROM ${t}`]
        : [
            `INSERT INTO ${t} VALUES (2)`,
            { sql: `INSERT INTO ${t} VALUES (?)`, args: [3] },
            `SELECT count(*) AS n FROM ${t}`,
          ];
    const results = await client.batch(statements, mode);
    expect(results).toHaveLength(statements.length);
    expect(results.at(-1)?.rows[0]).toMatchObject(mode === "read" ? { s: 1n } : { n: 3n });
  });

  test("a failing batch is rolled back as a whole", async () => {
    const t = freshTable("atomic");
    await client.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY)`);
    await expectLibsqlError(
      client.batch([`INSERT INTO ${t} VALUES (1)`, `INSERT INTO ${t} VALUES (1)`], "write"),
      "SQLITE_CONSTRAINT",
    );
    const rs = await client.execute(`SELECT count(*) AS n FROM ${t}`);
    expect(rs.rows[0]?.n).toBe(0n);
  });

  test('"read" batches and transactions refuse writes (BEGIN TRANSACTION READONLY), as sqld', async () => {
    const t = freshTable("readonly");
    await client.execute(`CREATE TABLE ${t} (v TEXT)`);
    await client.execute(`INSERT INTO ${t} VALUES ('before')`);
    const err = await expectLibsqlError(
      client.batch([`SELECT * FROM ${t}`, `DELETE FROM ${t}`], "read"),
      "SQLITE_READONLY",
    );
    expect(err.message).toMatch(/read-only: BEGIN TRANSACTION READONLY/);
    const reading = await client.transaction("read");
    expect((await reading.execute(`SELECT v FROM ${t}`)).rows).toHaveLength(1);
    await expectLibsqlError(reading.execute(`INSERT INTO ${t} VALUES ('x')`), "SQLITE_READONLY");
    await reading.commit();
    // The connection is writable again once the transaction is over.
    await client.batch([`INSERT INTO ${t} VALUES ('after')`], "write");
    const rs = await client.execute(`SELECT v FROM ${t} ORDER BY rowid`);
    expect(rs.rows.map((r) => r.v)).toEqual(["before", "after"]);
  });

  test("interactive transactions commit and roll back", async () => {
    const t = freshTable("txn");
    await client.execute(`CREATE TABLE ${t} (v TEXT)`);

    const committed = await client.transaction("write");
    await committed.execute({ sql: `INSERT INTO ${t} VALUES (?)`, args: ["kept"] });
    const inside = await committed.execute(`SELECT count(*) AS n FROM ${t}`);
    expect(inside.rows[0]?.n).toBe(1n);
    await committed.commit();

    const rolledBack = await client.transaction("write");
    await rolledBack.execute({ sql: `INSERT INTO ${t} VALUES (?)`, args: ["dropped"] });
    await rolledBack.batch([`INSERT INTO ${t} VALUES ('dropped too')`]);
    await rolledBack.rollback();

    const closed = await client.transaction("deferred");
    await closed.execute(`INSERT INTO ${t} VALUES ('closed without commit')`);
    closed.close();

    const rs = await client.execute(`SELECT v FROM ${t}`);
    expect(rs.rows.map((r) => r.v)).toEqual(["kept"]);
  });

  test("executeMultiple runs a script, triggers included", async () => {
    const t = freshTable("script");
    await client.executeMultiple(`
      CREATE TABLE ${t} (v INTEGER); -- a comment; with a semicolon
      CREATE TABLE ${t}_log (msg TEXT);
      CREATE TRIGGER ${t}_trg AFTER INSERT ON ${t} BEGIN
        INSERT INTO ${t}_log VALUES ('inserted ' || NEW.v || ';');
        INSERT INTO ${t}_log VALUES (CASE WHEN NEW.v > 1 THEN 'big' ELSE 'small' END);
      END;
      INSERT INTO ${t} VALUES (1); INSERT INTO ${t} VALUES (2)
    `);
    const rs = await client.execute(`SELECT msg FROM ${t}_log ORDER BY rowid`);
    expect(rs.rows.map((r) => r.msg)).toEqual(["inserted 1;", "small", "inserted 2;", "big"]);
    await expectLibsqlError(
      client.executeMultiple(`INSERT INTO ${t} VALUES (3); SELEC 1; INSERT INTO ${t} VALUES (4)`),
      "SQL_PARSE_ERROR",
    );
    const count = await client.execute(`SELECT count(*) AS n FROM ${t}`);
    expect(count.rows[0]?.n).toBe(3n);
  });

  test("migrate runs statements with foreign keys off, atomically", async () => {
    const t = freshTable("migrate");
    await client.migrate([
      `CREATE TABLE ${t}_parent (id INTEGER PRIMARY KEY)`,
      `CREATE TABLE ${t}_child (parent INTEGER REFERENCES ${t}_parent(id))`,
      `INSERT INTO ${t}_child VALUES (42)`,
    ]);
    const rs = await client.execute(`SELECT parent FROM ${t}_child`);
    expect(rs.rows[0]?.parent).toBe(42n);
  });

  test("SQL errors carry sqld's codes", async () => {
    const t = freshTable("errors");
    await client.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, u TEXT UNIQUE NOT NULL)`);
    await client.execute(`INSERT INTO ${t} (u) VALUES ('a')`);
    const unique = await expectLibsqlError(
      client.execute(`INSERT INTO ${t} (u) VALUES ('a')`),
      "SQLITE_CONSTRAINT",
    );
    expect(unique.message).toMatch(/UNIQUE constraint failed/);
    await expectLibsqlError(
      client.execute(`INSERT INTO ${t} (u) VALUES (NULL)`),
      "SQLITE_CONSTRAINT",
    );
    await expectLibsqlError(client.execute("SELEC 1"), "SQL_PARSE_ERROR");
    await expectLibsqlError(client.execute("SELECT * FROM no_such_table"), "SQLITE_ERROR");
    await expectLibsqlError(client.execute("SELECT 1; SELECT 2"), "SQL_MANY_STATEMENTS");
    await expectLibsqlError(client.execute("  -- nothing  "), "SQL_NO_STATEMENT");
    await expectLibsqlError(client.execute({ sql: "SELECT ?", args: [1, 2] }), "ARGS_INVALID");
    // The stream survives errors.
    expect((await client.execute("SELECT 1 AS one")).rows[0]?.one).toBe(1n);
  });

  test("100 concurrent write batches all land", async () => {
    const t = freshTable("concurrent");
    await client.execute(`CREATE TABLE ${t} (batch INTEGER, item INTEGER)`);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        client.batch(
          [
            { sql: `INSERT INTO ${t} VALUES (?, 1)`, args: [i] },
            { sql: `INSERT INTO ${t} VALUES (?, 2)`, args: [i] },
          ],
          "write",
        ),
      ),
    );
    const rs = await client.execute(`SELECT count(*) AS n, count(DISTINCT batch) AS b FROM ${t}`);
    expect(rs.rows[0]).toMatchObject({ n: 200n, b: 100n });
  });

  test("a writer waits for another stream's transaction instead of failing", async () => {
    const t = freshTable("lockwait");
    await client.execute(`CREATE TABLE ${t} (v INTEGER)`);
    const holder = await client.transaction("write");
    await holder.execute(`INSERT INTO ${t} VALUES (1)`);
    const waiting = client.execute(`INSERT INTO ${t} VALUES (2)`);
    await sleep(200);
    await holder.commit();
    await waiting;
    // close() sends its request asynchronously; the next writer must still get the lock.
    const closing = await client.transaction("write");
    await closing.execute(`INSERT INTO ${t} VALUES (3)`);
    closing.close();
    const next = await client.transaction("write");
    await next.execute(`INSERT INTO ${t} VALUES (4)`);
    await next.commit();
    const rs = await client.execute(
      `SELECT group_concat(v) AS vs FROM (SELECT v FROM ${t} ORDER BY v)`,
    );
    expect(rs.rows[0]?.vs).toBe("1,2,4");
  });
});

test("HTTP and WebSocket streams see one database", async () => {
  const http = createClient({ url: worker.url });
  const ws = createClient({ url: worker.wsUrl });
  const t = freshTable("shared");
  await http.execute(`CREATE TABLE ${t} (v TEXT)`);
  await ws.execute(`INSERT INTO ${t} VALUES ('from ws')`);
  expect((await http.execute(`SELECT v FROM ${t}`)).rows[0]?.v).toBe("from ws");
  http.close();
  ws.close();
});
