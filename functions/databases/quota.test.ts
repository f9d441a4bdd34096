/**
 * Quotas: the worker refuses to grow a database past its quota (QUOTA_EXCEEDED, 507, over REST;
 * SQLITE_FULL naming the quota for libSQL clients), and deletes, DROP and VACUUM still work at
 * the limit; a new quota applies at once.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ DBFORGE_DEFAULT_QUOTA: "64MiB" });
});
afterAll(() => stack.close());

const QUOTA = 256 * 1024;

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];
  const query = (db: string, sql: string, args: unknown[] = []) =>
    rt().call("POST", `/api/db/${db}/query`, { body: { sql, args } });

  test("writes past the quota fail with QUOTA_EXCEEDED; delete and VACUUM work at the limit", async () => {
    const db = uniqueName("quota");
    const created = await rt().call("POST", "/admin/databases", {
      body: { name: db, quotaBytes: QUOTA },
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { quotaBytes: number }).quotaBytes).toBe(QUOTA);
    expect((await query(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")).status).toBe(200);

    let inserted = 0;
    let refusal: Response | undefined;
    for (let i = 0; i < 100 && !refusal; i++) {
      const res = await query(db, "INSERT INTO t (b) VALUES (randomblob(8000))");
      if (res.status === 200) inserted++;
      else refusal = res;
    }
    expect(inserted).toBeGreaterThan(10);
    expect(inserted).toBeLessThan(40);
    expect(refusal?.status).toBe(507);
    const problem = await problemOf(refusal as Response);
    expect(problem.code).toBe("QUOTA_EXCEEDED");
    expect(problem.detail).toContain(String(QUOTA));

    // Nothing of the refused statement stayed; reads, deletes and VACUUM work.
    const count = async () =>
      (
        (await (await query(db, "SELECT count(*) AS n FROM t")).json()) as {
          rows: Array<{ n: number }>;
        }
      ).rows[0]?.n;
    expect(await count()).toBe(inserted);
    expect((await query(db, "DELETE FROM t WHERE id % 2 = 0")).status).toBe(200);
    expect((await query(db, "VACUUM")).status).toBe(200);
    expect((await query(db, "INSERT INTO t (b) VALUES (randomblob(8000))")).status).toBe(200);

    // libSQL clients see sqld's code, with the quota in the message.
    const client = createClient({ url: `${rt().url}/db/${db}/`, authToken: stack.adminToken });
    const error = await (async () => {
      for (let i = 0; i < 100; i++)
        await client.execute("INSERT INTO t (b) VALUES (randomblob(8000))");
    })().catch((err: { code?: string; message: string }) => err);
    expect(error).toMatchObject({ code: "SQLITE_FULL" });
    expect((error as Error).message).toMatch(/database quota of 262144 bytes/);
    client.close();

    // A bigger quota applies at once (the worker restarts with it), and is shown.
    const patched = await rt().call("PATCH", `/admin/databases/${db}`, {
      body: { quotaBytes: 4 * QUOTA },
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { quotaBytes: number }).quotaBytes).toBe(4 * QUOTA);
    expect((await query(db, "INSERT INTO t (b) VALUES (randomblob(8000))")).status).toBe(200);
    const shown = (await (await rt().call("GET", `/admin/databases/${db}`)).json()) as {
      sizeBytes: number;
      quotaBytes: number;
    };
    expect(shown.sizeBytes).toBeGreaterThan(0);
    expect(shown.quotaBytes).toBe(4 * QUOTA);

    // Back to the default; bad quotas are problems.
    const reset = await rt().call("PATCH", `/admin/databases/${db}`, {
      body: { quotaBytes: null },
    });
    expect(((await reset.json()) as { quotaBytes: number }).quotaBytes).toBe(64 * 1024 * 1024);
    for (const quotaBytes of [1, -5, 1.5, "big", 2 ** 60]) {
      const bad = await rt().call("PATCH", `/admin/databases/${db}`, { body: { quotaBytes } });
      expect(bad.status, String(quotaBytes)).toBe(400);
      expect((await problemOf(bad)).code).toBe("BAD_REQUEST");
    }
    const missing = await rt().call("PATCH", `/admin/databases/${uniqueName("none")}`, {
      body: { quotaBytes: QUOTA },
    });
    expect(missing.status).toBe(404);
  });

  test("the tenant cannot lift its own quota", async () => {
    const db = uniqueName("quota-pragma");
    await rt().call("POST", "/admin/databases", { body: { name: db, quotaBytes: QUOTA } });
    const res = await query(db, "PRAGMA max_page_count = 1000000");
    expect(res.status).toBe(403);
    const read = await query(db, "PRAGMA max_page_count");
    if (read.status === 200) {
      const rows = ((await read.json()) as { rows: Array<Record<string, number>> }).rows;
      expect(Object.values(rows[0] ?? {})[0]).toBe(QUOTA / 4096);
    }
  });
});
