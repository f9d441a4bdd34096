/**
 * Backups, point-in-time restore and fork, end to end on real workers (process driver): rows
 * written at known instants come back exactly up to any instant between two writes, across a
 * checkpoint, a graceful restart and a kill -9 of the worker; restores in place and as a new
 * database; forks under write load are consistent and independent; backups are encrypted,
 * listed with size, checksum and engine, pruned by retention, and survive kill -9 mid-backup.
 */
import { createHash } from "node:crypto";
import {
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

/** Segments close and ship within a fraction of a second, so tests need not wait. */
const FAST_BACKUPS = { DBFORGE_WAL_SEGMENT_MS: "300", DBFORGE_BACKUP_SHIP_INTERVAL_MS: "300" };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(FAST_BACKUPS);
});
afterAll(() => stack.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backup {
  id: string;
  createdAt: string;
  sizeBytes: number;
  sha256: string;
  engine: string;
  encryptedBytes: number;
  current: boolean;
}

function client(name: string) {
  return createClient({
    url: `${stack.runtimes.node.url}/db/${name}/`,
    authToken: stack.adminToken,
    intMode: "number",
  });
}

async function createDatabase(name: string): Promise<void> {
  const res = await stack.runtimes.node.call("POST", "/admin/databases", { body: { name } });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function restore(name: string, body: Record<string, unknown>): Promise<Response> {
  return stack.runtimes.node.call("POST", `/admin/databases/${name}/restore`, { body });
}

async function ids(name: string): Promise<number[]> {
  const db = client(name);
  try {
    return (await db.execute("SELECT i FROM t ORDER BY i")).rows.map((r) => Number(r.i));
  } finally {
    db.close();
  }
}

/** The worker's pid (the process driver's worker id), from the control plane. */
async function workerPid(name: string): Promise<number> {
  const info = (await (await stack.cp.api("GET", `/v1/databases/${name}`)).json()) as {
    workerId: string | null;
  };
  return Number(info.workerId);
}

test("point-in-time restore: exactly the rows up to any instant, across a checkpoint, a restart and a kill -9", async () => {
  const name = uniqueName("pitr");
  await createDatabase(name);
  const db = client(name);
  await db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, pad BLOB)");
  // Instants between writes: after write k, before write k+1.
  const between: number[] = [];
  const write = async (i: number, padBytes = 16) => {
    await db.execute({ sql: "INSERT INTO t VALUES (?, randomblob(?))", args: [i, padBytes] });
    await sleep(150);
    between.push(Date.now());
    await sleep(150);
  };
  await write(1);
  await write(2);
  // Over 1000 WAL frames: the archiver checkpoints (and SQLite restarts the WAL after).
  for (let i = 3; i <= 8; i++) await write(i, 1_000_000);
  const checkpointed = between.length;
  await write(9);
  // A graceful restart (a new quota restarts the worker) ...
  const patched = await stack.runtimes.node.call("PATCH", `/admin/databases/${name}`, {
    body: { quotaBytes: 512 * 1024 * 1024 },
  });
  expect(patched.status).toBe(200);
  await write(10);
  // ... and a kill -9 mid-life: the next worker takes up the archive where the WAL is.
  const pid = await workerPid(name);
  await write(11);
  process.kill(pid, "SIGKILL");
  await sleep(300);
  await write(12);
  await write(13);
  db.close();

  // Every instant between two writes gives exactly the rows written before it.
  for (const [k, at] of between.entries()) {
    if (k % 3 !== 0 && k !== checkpointed && k < between.length - 3) continue;
    const as = uniqueName("pitr-as");
    const res = await restore(name, { timestamp: new Date(at).toISOString(), as });
    expect(res.status, await res.clone().text()).toBe(200);
    const result = (await res.json()) as { restoredTo: string; database: { name: string } };
    expect(result.database.name).toBe(as);
    expect(await ids(as), `restored to after write ${k + 1}`).toEqual(
      Array.from({ length: k + 1 }, (_, j) => j + 1),
    );
    const check = client(as);
    expect((await check.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");
    check.close();
  }
  // The source is untouched by restores into new databases.
  expect(await ids(name)).toEqual(Array.from({ length: 13 }, (_, j) => j + 1));

  // In place: the database goes back to after write 4, keeps working, and later restores
  // still find the history before the restore.
  const inPlace = await restore(name, { timestamp: new Date(between[3] as number).toISOString() });
  expect(inPlace.status, await inPlace.clone().text()).toBe(200);
  expect(await ids(name)).toEqual([1, 2, 3, 4]);
  const after = client(name);
  await after.execute("INSERT INTO t VALUES (100, NULL)");
  after.close();
  await sleep(400);
  const beforeRestore = uniqueName("history");
  const old = await restore(name, {
    timestamp: new Date(between[10] as number).toISOString(),
    as: beforeRestore,
  });
  expect(old.status, await old.clone().text()).toBe(200);
  expect(await ids(beforeRestore)).toEqual(Array.from({ length: 11 }, (_, j) => j + 1));
  const now = uniqueName("latest");
  expect((await restore(name, { timestamp: new Date().toISOString(), as: now })).status).toBe(200);
  expect(await ids(now)).toEqual([1, 2, 3, 4, 100]);
}, 120_000);

test("fork under write load: consistent (whole transactions, integrity_check) and independent", async () => {
  const name = uniqueName("fork-src");
  await createDatabase(name);
  const db = client(name);
  await db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, pair INTEGER)");
  let writing = true;
  let n = 0;
  const writer = (async () => {
    while (writing) {
      n += 2;
      // Two rows per transaction: a consistent copy holds both or neither.
      await db.batch(
        [
          { sql: "INSERT INTO t VALUES (?, ?)", args: [n - 1, n / 2] },
          { sql: "INSERT INTO t VALUES (?, ?)", args: [n, n / 2] },
        ],
        "write",
      );
    }
  })();
  await sleep(300);
  const fork = uniqueName("fork");
  const res = await stack.runtimes.node.call("POST", `/admin/databases/${name}/fork`, {
    body: { name: fork },
  });
  await sleep(200);
  const timedFork = uniqueName("fork-at");
  const at = new Date().toISOString();
  await sleep(200);
  writing = false;
  await writer;
  expect(res.status, await res.clone().text()).toBe(201);
  const forked = client(fork);
  expect((await forked.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");
  const counts = (await forked.execute("SELECT count(*) AS n, count(DISTINCT pair) AS p FROM t"))
    .rows[0] as unknown as { n: number; p: number };
  expect(counts.n).toBeGreaterThan(0);
  expect(counts.n, "every transaction wholly present or absent").toBe(counts.p * 2);
  // Independent from here on, both ways.
  await forked.execute("INSERT INTO t VALUES (-1, -1)");
  await db.execute("INSERT INTO t VALUES (-2, -2)");
  expect((await db.execute("SELECT count(*) AS n FROM t WHERE i = -1")).rows[0]?.n).toBe(0);
  expect((await forked.execute("SELECT count(*) AS n FROM t WHERE i = -2")).rows[0]?.n).toBe(0);
  forked.close();

  // A fork of an instant: the rows committed by then, whole transactions only.
  const timed = await stack.runtimes.node.call("POST", `/admin/databases/${name}/fork`, {
    body: { name: timedFork, timestamp: at },
  });
  expect(timed.status, await timed.clone().text()).toBe(201);
  const atClient = client(timedFork);
  const atCounts = (
    await atClient.execute("SELECT count(*) AS n, count(DISTINCT pair) AS p FROM t")
  ).rows[0] as unknown as { n: number; p: number };
  expect(atCounts.n).toBe(atCounts.p * 2);
  expect(atCounts.n).toBeGreaterThanOrEqual(counts.n);
  expect(atCounts.n).toBeLessThan(n);
  atClient.close();
  db.close();
}, 60_000);

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];

  test("a backup is listed with size, checksum and engine, encrypted at rest, restorable by id", async () => {
    const name = uniqueName("bk");
    expect((await rt().call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
    await rt().call("POST", `/api/db/${name}/query`, {
      body: { sql: "CREATE TABLE secret (v TEXT)" },
    });
    await rt().call("POST", `/api/db/${name}/query`, {
      body: { sql: "INSERT INTO secret VALUES ('plain text that must not be on the target')" },
    });
    const made = await rt().call("POST", `/admin/databases/${name}/backups`);
    expect(made.status, await made.clone().text()).toBe(201);
    const backup = (await made.json()) as Backup;
    expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(backup.sizeBytes).toBeGreaterThan(0);
    expect(backup.encryptedBytes).toBeGreaterThan(backup.sizeBytes);
    expect(backup.engine).toMatch(/\d+\.\d+/);
    expect(backup.current).toBe(true);
    // Later rows are not in the backup.
    await rt().call("POST", `/api/db/${name}/query`, {
      body: { sql: "INSERT INTO secret VALUES ('later')" },
    });
    const list = (await (await rt().call("GET", `/admin/databases/${name}/backups`)).json()) as {
      backups: Backup[];
      restorableFrom: string;
      schedule: { intervalS: number; keep: number };
    };
    expect(list.backups.map((b) => b.id)).toContain(backup.id);
    expect(list.schedule.keep).toBeGreaterThan(0);
    expect(Date.parse(list.restorableFrom)).toBeLessThanOrEqual(Date.parse(backup.createdAt));

    // On the target: encrypted (the file's header and its text are nowhere in the objects).
    const objects = join(stack.cp.dataDir, ".backups", name, backup.id);
    const files = readdirSync(objects);
    expect(files).toContain("base.dbfb");
    expect(files).toContain("manifest.json");
    for (const file of files.filter((f) => f.endsWith(".dbfb"))) {
      const bytes = readFileSync(join(objects, file));
      expect(bytes.includes(Buffer.from("SQLite format 3"))).toBe(false);
      expect(bytes.includes(Buffer.from("must not be on the target"))).toBe(false);
    }

    // Downloaded: the database file as the backup took it, matching its checksum.
    const file = await rt().call("GET", `/admin/databases/${name}/backups/${backup.id}/file`);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("application/vnd.sqlite3");
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(backup.sha256);
    expect(bytes.includes(Buffer.from("plain text that must not be on the target"))).toBe(true);
    const noFile = await rt().call(
      "GET",
      `/admin/databases/${name}/backups/000000000000000-00000000/file`,
    );
    expect(noFile.status).toBe(404);

    const as = uniqueName("bk-as");
    const restored = await rt().call("POST", `/admin/databases/${name}/restore`, {
      body: { backupId: backup.id, as },
    });
    expect(restored.status, await restored.clone().text()).toBe(200);
    const rows = (await (
      await rt().call("POST", `/api/db/${as}/query`, { body: { sql: "SELECT v FROM secret" } })
    ).json()) as { rows: unknown[] };
    expect(rows.rows).toEqual([{ v: "plain text that must not be on the target" }]);

    // The current backup cannot go; an older one can.
    const current = await rt().call("DELETE", `/admin/databases/${name}/backups/${backup.id}`);
    expect(current.status).toBe(409);
    expect((await problemOf(current)).code).toBe("BACKUP_IN_USE");
    const next = (await (
      await rt().call("POST", `/admin/databases/${name}/backups`)
    ).json()) as Backup;
    expect(next.id).not.toBe(backup.id);
    const gone = await rt().call("DELETE", `/admin/databases/${name}/backups/${backup.id}`);
    expect(gone.status).toBe(204);
    expect(existsSync(objects)).toBe(false);
    const again = await rt().call("DELETE", `/admin/databases/${name}/backups/${backup.id}`);
    expect(again.status).toBe(404);
    expect((await problemOf(again)).code).toBe("BACKUP_NOT_FOUND");

    // The audit log has each action.
    const audit = (await (await rt().call("GET", `/admin/audit?database=${name}`)).json()) as {
      entries: Array<{ action: string; outcome: string }>;
    };
    const actions = audit.entries.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toContain("backup.create:ok");
    expect(actions).toContain("backup.delete:ok");
    expect(actions).toContain("backup.delete:BACKUP_IN_USE");
    expect(actions).toContain("database.restore:ok");
  }, 60_000);

  test("bad restore and fork requests get clear problems and change nothing", async () => {
    const name = uniqueName("bad-restore");
    expect((await rt().call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
    const post = (path: string, body: unknown, token?: string | null) =>
      rt().call("POST", `/admin/databases/${name}/${path}`, {
        body,
        ...(token === undefined ? {} : { token }),
      });
    const cases: Array<[string, unknown, number, string]> = [
      ["restore", {}, 400, "BAD_REQUEST"],
      ["restore", { backupId: "x", timestamp: new Date().toISOString() }, 400, "BAD_REQUEST"],
      ["restore", { timestamp: "yesterday" }, 400, "BAD_REQUEST"],
      ["restore", { timestamp: "2020-01-01T00:00:00Z" }, 422, "RESTORE_POINT_UNAVAILABLE"],
      [
        "restore",
        { timestamp: new Date(Date.now() + 3_600_000).toISOString() },
        400,
        "BAD_REQUEST",
      ],
      ["restore", { backupId: "000000000000000-00000000" }, 404, "BACKUP_NOT_FOUND"],
      ["restore", { backupId: "../../etc" }, 404, "BACKUP_NOT_FOUND"],
      ["restore", { timestamp: new Date().toISOString(), as: name }, 409, "DATABASE_EXISTS"],
      ["restore", { timestamp: new Date().toISOString(), as: "Not A Name" }, 400, "INVALID_NAME"],
      ["fork", { name }, 409, "DATABASE_EXISTS"],
      ["fork", {}, 400, "BAD_REQUEST"],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await post(path, body);
      const what = `${path} ${JSON.stringify(body)}`;
      expect(res.status, `${what}: ${await res.clone().text()}`).toBe(status);
      expect((await problemOf(res)).code, what).toBe(code);
    }
    // Authentication before existence: the same answer for a database that does not exist.
    for (const target of [name, uniqueName("nowhere")]) {
      const res = await rt().call("POST", `/admin/databases/${target}/backups`, { token: null });
      expect(res.status).toBe(401);
    }
    // A database token (even the database's own) is not an admin credential: no backups
    // listed, downloaded or restored with it.
    const other = uniqueName("other");
    expect((await rt().call("POST", "/admin/databases", { body: { name: other } })).status).toBe(
      201,
    );
    // (Few attempts: failed authentications from one client are throttled after 20.)
    const tokenOf = async (owner: string, access: string) =>
      (
        (await (
          await rt().call("POST", `/admin/databases/${owner}/tokens`, { body: { access } })
        ).json()) as { token: string }
      ).token;
    const attempts = [
      [await tokenOf(other, "read-only"), "GET", `/admin/databases/${name}/backups`, undefined],
      [
        await tokenOf(other, "read-only"),
        "GET",
        `/admin/databases/${name}/backups/000000000000000-00000000/file`,
        undefined,
      ],
      [
        await tokenOf(name, "full-access"),
        "POST",
        `/admin/databases/${name}/restore`,
        { timestamp: new Date().toISOString() },
      ],
      [
        await tokenOf(name, "full-access"),
        "POST",
        `/admin/databases/${name}/fork`,
        { name: uniqueName("stolen") },
      ],
    ] as const;
    for (const [token, method, path, body] of attempts) {
      const res = await rt().call(method, path, {
        token,
        ...(body === undefined ? {} : { body }),
      });
      expect([401, 403], `a database token: ${method} ${path}`).toContain(res.status);
    }
    const missing = await rt().call("POST", `/admin/databases/${uniqueName("nowhere")}/backups`);
    expect(missing.status).toBe(404);
    const list = (await (await rt().call("GET", "/admin/databases")).json()) as {
      databases: Array<{ name: string }>;
    };
    expect(list.databases.filter((d) => d.name.startsWith("not"))).toEqual([]);
  }, 30_000);
});

test("a backup cut short by kill -9 is never listed; the ones before it stay restorable", async () => {
  const name = uniqueName("bk-kill");
  await createDatabase(name);
  const db = client(name);
  await db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, pad BLOB)");
  // Large enough that copying the base takes a moment to interrupt.
  await db.execute(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) INSERT INTO t SELECT x, randomblob(10000) FROM c",
  );
  db.close();
  const first = await stack.runtimes.node.call("POST", `/admin/databases/${name}/backups`);
  expect(first.status).toBe(201);
  const firstAt = Date.parse(((await first.json()) as Backup).createdAt);
  for (let round = 0; round < 6; round++) {
    const pid = await workerPid(name);
    const attempt = stack.runtimes.node.call("POST", `/admin/databases/${name}/backups`);
    await sleep(Math.floor(Math.random() * 120));
    process.kill(pid, "SIGKILL");
    await attempt; // may succeed or fail: either way nothing half-made may be listed
    await sleep(200);
    // The next request wakes a new worker; the archive starts over where it can.
    const writer = client(name);
    await writer.execute({ sql: "INSERT INTO t VALUES (?, NULL)", args: [10_000 + round] });
    writer.close();
  }
  await sleep(800);
  const list = (await (
    await stack.runtimes.node.call("GET", `/admin/databases/${name}/backups`)
  ).json()) as { backups: Backup[] };
  expect(list.backups.length).toBeGreaterThanOrEqual(1);
  for (const backup of list.backups) {
    const as = uniqueName("bk-kill-as");
    const res = await restore(name, { backupId: backup.id, as });
    expect(res.status, `${backup.id}: ${await res.clone().text()}`).toBe(200);
    const check = client(as);
    expect((await check.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");
    // The backup taken when the database was created is empty; every later one has the rows.
    if (Date.parse(backup.createdAt) >= firstAt) {
      const rows = await check.execute("SELECT count(*) AS n FROM t");
      expect(Number(rows.rows[0]?.n)).toBeGreaterThanOrEqual(3000);
    }
    check.close();
  }
  // Nothing half-written on the target.
  const objects = join(stack.cp.dataDir, ".backups", name);
  const partial = readdirSync(objects, { recursive: true }).filter((f) =>
    String(f).includes(".partial"),
  );
  expect(partial).toEqual([]);
  // And the database restores to now with every row.
  const now = uniqueName("bk-kill-now");
  expect((await restore(name, { timestamp: new Date().toISOString(), as: now })).status).toBe(200);
  const check = client(now);
  expect(Number((await check.execute("SELECT count(*) AS n FROM t")).rows[0]?.n)).toBe(3006);
  check.close();
}, 120_000);

test("a link planted in a worker's archive never ships another database's file", async () => {
  const victim = uniqueName("victim");
  const attacker = uniqueName("attacker");
  await createDatabase(victim);
  await createDatabase(attacker);
  const db = client(victim);
  await db.execute("CREATE TABLE secrets (v TEXT)");
  await db.execute("INSERT INTO secrets VALUES ('the victim''s secret')");
  db.close();
  // What a worker that escaped its sandbox could do in its own directory: a new generation
  // whose base is a link to the victim's database file.
  const workerDir = join(stack.cp.dataDir, attacker, "iku.db");
  const { uid, gid } = statSync(workerDir);
  const id = `${String(Date.now()).padStart(15, "0")}-deadbeef`;
  const gen = join(workerDir, "dbforge-wal", id);
  mkdirSync(gen, { recursive: true });
  writeFileSync(
    join(gen, "generation.json"),
    JSON.stringify({ id, startedAt: Date.now(), engine: "forged" }),
  );
  symlinkSync(join(stack.cp.dataDir, victim, "iku.db/dbs/default/data"), join(gen, "base.db"));
  for (const path of [gen, join(gen, "generation.json")]) chownSync(path, uid, gid);
  lchownSync(join(gen, "base.db"), uid, gid);
  await sleep(1500); // several shipping rounds
  const list = (await (
    await stack.runtimes.node.call("GET", `/admin/databases/${attacker}/backups`)
  ).json()) as { backups: Backup[] };
  expect(list.backups.map((b) => b.id)).not.toContain(id);
  expect(existsSync(join(stack.cp.dataDir, ".backups", attacker, id))).toBe(false);
});
