/**
 * The escape table: a tenant holding a read-only or a full-access token for one database tries
 * to reach the host and other tenants through SQL, over REST and over @libsql/client (HTTP and
 * WebSocket through /db/{name}/). Every attempt is refused with an error that names what was
 * refused, and nothing is read or written.
 */
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, LibsqlError } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { testEngine } from "../../../testkit/engine";
import { type Stack, startStack } from "../../../testkit/stack";

let stack: Stack;
const tokens: Record<"read-only" | "full-access", string> = { "read-only": "", "full-access": "" };
const planted = join(tmpdir(), `dbforge-escape-${process.pid}`);

beforeAll(async () => {
  stack = await startStack();
  const rt = stack.runtimes.node;
  for (const name of ["tenant", "victim"]) {
    expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
  }
  const seed = await rt.call("POST", "/api/db/victim/batch", {
    body: {
      statements: [
        { sql: "CREATE TABLE secrets (v TEXT)" },
        { sql: "INSERT INTO secrets VALUES ('victim-secret')" },
      ],
    },
  });
  expect(seed.status).toBe(200);
  for (const access of ["read-only", "full-access"] as const) {
    const res = await rt.call("POST", "/admin/databases/tenant/tokens", { body: { access } });
    tokens[access] = ((await res.json()) as { token: string }).token;
  }
});
afterAll(() => stack.close());

/** What must never appear in any answer: the secrets the attacks go after. */
function secrets(): string[] {
  const state = join(stack.cp.dataDir, ".control-plane");
  return [
    stack.adminToken,
    readFileSync(join(state, "root-ed25519.pem"), "utf8").split("\n")[1] ?? "PRIVATE KEY",
    "victim-secret",
    "root:x:0:0",
  ];
}

interface Attack {
  sql: string;
  /** What the error message must name. */
  names: RegExp;
  /** Files that must not exist afterwards. */
  creates?: string[];
}

function attacks(): Attack[] {
  const state = join(stack.cp.dataDir, ".control-plane");
  const victim = join(stack.cp.dataDir, "victim/iku.db/dbs/default/data");
  const targets = [
    join(state, "admin-token"),
    join(state, "root-ed25519.pem"),
    victim,
    `${victim}-wal`,
    "/etc/passwd",
  ];
  const list: Attack[] = [];
  for (const path of targets) {
    list.push({ sql: `SELECT readfile('${path}')`, names: /readfile/ });
    list.push({ sql: `SELECT CAST(READFILE('${path}') AS TEXT) AS t`, names: /readfile/ });
    list.push({ sql: `SELECT edit('${path}')`, names: /edit/ });
  }
  for (const path of [planted, join(stack.cp.dataDir, "planted"), join(state, "planted")]) {
    list.push({ sql: `SELECT writefile('${path}', 'x')`, names: /writefile/, creates: [path] });
    list.push({ sql: `VACUUM INTO '${path}'`, names: /VACUUM INTO/, creates: [path] });
  }
  list.push(
    { sql: "SELECT * FROM fsdir('/')", names: /fsdir/ },
    { sql: `SELECT name FROM fsdir('${stack.cp.dataDir}')`, names: /fsdir/ },
    { sql: "SELECT count(*) FROM FSDIR('/etc')", names: /fsdir/ },
    { sql: "SELECT fts3_tokenizer('simple')", names: /fts3_tokenizer/ },
    { sql: "SELECT fts3_tokenizer('evil', x'0000000000000000')", names: /fts3_tokenizer/ },
    {
      sql: "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')",
      names: /load_extension/,
    },
    {
      sql: "UPDATE sqlite_dbpage SET data = zeroblob(4096) WHERE pgno = 1",
      names: /sqlite_dbpage/,
    },
    { sql: "INSERT INTO sqlite_dbpage VALUES (1, zeroblob(4096))", names: /sqlite_dbpage/ },
    { sql: "SELECT data FROM sqlite_dbpage", names: /sqlite_dbpage/ },
    { sql: `ATTACH '${victim}' AS v`, names: /ATTACH/ },
    { sql: "PRAGMA journal_mode = DELETE", names: /journal_mode/ },
    { sql: "PRAGMA writable_schema = ON", names: /writable_schema/ },
    { sql: "PRAGMA hard_heap_limit = 0", names: /hard_heap_limit/ },
    { sql: "PRAGMA key = 'lock-everyone-out'", names: /key/ },
  );
  for (const module of [
    "fsdir",
    "sqlite_dbpage",
    "sqlite_stmt",
    "carray",
    "dbstat",
    "zipfile",
    "csv",
  ]) {
    list.push({
      sql: `CREATE VIRTUAL TABLE escape_${module} USING ${module}`,
      names: new RegExp(`module ${module}`),
    });
  }
  return list;
}

type Channel = "rest" | "http" | "ws";

/** Runs `sql` with `token`; the error message, or undefined when it succeeded. */
async function attempt(channel: Channel, token: string, sql: string): Promise<string | undefined> {
  if (channel === "rest") {
    const res = await stack.runtimes.node.call("POST", "/api/db/tenant/query", {
      body: { sql },
      token,
    });
    const text = await res.text();
    for (const secret of secrets()) expect(text).not.toContain(secret);
    if (res.ok) return undefined;
    expect(res.status, text).toBeLessThan(500);
    const problem = JSON.parse(text) as { code: string; detail: string };
    expect(["FORBIDDEN", "READ_ONLY", "SQL_ERROR"]).toContain(problem.code);
    return problem.detail;
  }
  const base = stack.runtimes.node.url.replace("http", channel);
  const client = createClient({ url: `${base}/db/tenant/`, authToken: token });
  try {
    const rs = await client.execute(sql);
    for (const secret of secrets()) expect(JSON.stringify(rs.rows)).not.toContain(secret);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(LibsqlError);
    for (const secret of secrets()) expect((err as Error).message).not.toContain(secret);
    return (err as Error).message;
  } finally {
    client.close();
  }
}

test("the tenant's worker runs the engine the suite runs on", async () => {
  const res = await stack.cp.api("POST", "/v1/databases/tenant/resolve");
  const { url } = (await res.json()) as { url: string };
  expect(await (await fetch(`${url}/version`)).text()).toContain(`${testEngine().name} engine`);
});

describe.each(["read-only", "full-access"] as const)("with a %s token", (access) => {
  test.each(["rest", "http", "ws"] as const)("every escape is refused over %s", async (channel) => {
    for (const attack of attacks()) {
      const message = await attempt(channel, tokens[access], attack.sql);
      expect(message, `${attack.sql} succeeded`).toBeDefined();
      // Refused for what it is, not merely failing: the message names the feature.
      expect(message, attack.sql).toMatch(attack.names);
      expect(message, attack.sql).toMatch(
        /not authorized|not available|disabled|no such function|managed by the server/,
      );
      for (const path of attack.creates ?? []) expect(existsSync(path), path).toBe(false);
    }
  });
});

test("nothing changed: the victim's data, the journal mode, the tenant's own database", async () => {
  const rt = stack.runtimes.node;
  const victim = await rt.call("POST", "/api/db/victim/query", {
    body: { sql: "SELECT v FROM secrets" },
  });
  expect(((await victim.json()) as { rows: unknown[] }).rows).toEqual([{ v: "victim-secret" }]);
  const mode = await rt.call("POST", "/api/db/tenant/query", {
    body: { sql: "PRAGMA journal_mode" },
    token: tokens["read-only"],
  });
  expect(((await mode.json()) as { rows: unknown[] }).rows).toEqual([{ journal_mode: "wal" }]);
  expect(readFileSync(join(stack.cp.dataDir, ".control-plane/admin-token"), "utf8").trim()).toBe(
    stack.adminToken,
  );
  // The tenant's own work is untouched by the refusals.
  const own = await rt.call("POST", "/api/db/tenant/query", {
    body: { sql: "SELECT count(*) AS n FROM sqlite_schema" },
    token: tokens["full-access"],
  });
  expect(own.status).toBe(200);
});

test("read-only tokens run reading pragmas only", async () => {
  const rt = stack.runtimes.node;
  const run = (sql: string) =>
    rt.call("POST", "/api/db/tenant/query", { body: { sql }, token: tokens["read-only"] });
  for (const sql of ["PRAGMA user_version = 5", "PRAGMA application_id = 1", "PRAGMA optimize"]) {
    const res = await run(sql);
    expect(res.status, sql).toBe(403);
    expect(((await res.json()) as { code: string }).code, sql).toBe("READ_ONLY");
  }
  for (const sql of ["PRAGMA user_version", "PRAGMA table_list", "PRAGMA foreign_keys = ON"]) {
    expect((await run(sql)).status, sql).toBe(200);
  }
  const version = await rt.call("POST", "/api/db/tenant/query", {
    body: { sql: "PRAGMA user_version" },
  });
  expect(((await version.json()) as { rows: unknown[] }).rows).toEqual([{ user_version: 0 }]);
});
