/**
 * Tokens cannot outlive what they were minted for: a re-created database refuses the old
 * database's tokens, a revoke invalidates every token of one database and no other's, a 401
 * does not tell whether a database exists (throttling: ./throttle.test.ts).
 */
import { createClient, LibsqlError } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Stack, startStack } from "../../../testkit/stack";
import { sleep } from "../../../testkit/wait";

let stack: Stack;
beforeAll(async () => {
  // These tests present many bad tokens on purpose: throttling is tested on its own.
  stack = await startStack({ DBFORGE_AUTH_FAILURE_BURST: "1000" }, { AUTH_FAILURE_BURST: "1000" });
});
afterAll(() => stack.close());

const node = () => stack.runtimes.node;

async function create(name: string): Promise<void> {
  const res = await node().call("POST", "/admin/databases", { body: { name } });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function mint(name: string, access = "full-access", expiresIn: number | null = 3600) {
  const res = await node().call("POST", `/admin/databases/${name}/tokens`, {
    body: { access, expiresIn },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

/** Whether `token` can run a query on `name` over REST, Hrana over HTTP and over WebSocket. */
async function works(name: string, token: string): Promise<Record<string, boolean | string>> {
  const rest = await node().call("POST", `/api/db/${name}/query`, {
    body: { sql: "SELECT 1 AS one" },
    token,
  });
  const out: Record<string, boolean | string> = {
    rest: rest.ok || ((await rest.json()) as { code: string }).code,
  };
  for (const scheme of ["http", "ws"] as const) {
    const url = `${node().url.replace("http", scheme)}/db/${name}/`;
    const client = createClient({ url, authToken: token });
    try {
      await client.execute("SELECT 1");
      out[scheme] = true;
    } catch (err) {
      expect(err).toBeInstanceOf(LibsqlError);
      out[scheme] = (err as LibsqlError).code;
    } finally {
      client.close();
    }
  }
  return out;
}

const allWork = { rest: true, http: true, ws: true };
const refused = (value: boolean | string) => value !== true;

test("a database deleted and created again refuses the old database's tokens", async () => {
  await create("phoenix");
  const old = await mint("phoenix");
  expect(await works("phoenix", old)).toEqual(allWork);
  expect((await node().call("DELETE", "/admin/databases/phoenix")).status).toBe(204);
  await create("phoenix");
  const result = await works("phoenix", old);
  expect(Object.values(result).every(refused), JSON.stringify(result)).toBe(true);
  expect(result.rest).toBe("UNAUTHORIZED");
  expect(await works("phoenix", await mint("phoenix"))).toEqual(allWork);
});

test("revoke invalidates every token of one database and none of another's", async () => {
  await create("rev-a");
  await create("rev-b");
  const a = [await mint("rev-a"), await mint("rev-a", "read-only", null)];
  const b = await mint("rev-b");
  // A WebSocket client connected before the revoke.
  const connected = createClient({
    url: `${node().url.replace("http", "ws")}/db/rev-a/`,
    authToken: a[0],
  });
  await connected.execute("SELECT 1");
  // The admin's cached worker token is re-minted after the revoke.
  expect((await node().call("POST", "/api/db/rev-a/query", { body: { sql: "SELECT 1" } })).ok).toBe(
    true,
  );

  const revoke = await node().call("POST", "/admin/databases/rev-a/tokens/revoke");
  expect(revoke.status, await revoke.clone().text()).toBe(204);

  for (const token of a) {
    const result = await works("rev-a", token);
    expect(Object.values(result).every(refused), JSON.stringify(result)).toBe(true);
  }
  await expect(connected.execute("SELECT 1")).rejects.toBeInstanceOf(Error);
  connected.close();
  expect(await works("rev-b", b)).toEqual(allWork);
  expect((await node().call("POST", "/api/db/rev-a/query", { body: { sql: "SELECT 1" } })).ok).toBe(
    true,
  );
  expect(await works("rev-a", await mint("rev-a"))).toEqual(allWork);
  // Also the CLI's and the console's route needs the admin token.
  const denied = await node().call("POST", "/admin/databases/rev-b/tokens/revoke", { token: b });
  expect(denied.status).toBe(401);
});

describe("a 401 does not reveal whether the database exists", () => {
  const answer = async (name: string, token: string, path = "query") => {
    const res =
      path === "query"
        ? await node().call("POST", `/api/db/${name}/query`, { body: { sql: "SELECT 1" }, token })
        : await node().call("POST", `/db/${name}/v2/pipeline`, {
            body: { requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }] },
            token,
          });
    const body = (await res.json()) as { code: string; detail: string };
    return { status: res.status, code: body.code, detail: body.detail.replaceAll(name, "NAME") };
  };

  beforeAll(async () => {
    await create("exists");
    await create("elsewhere");
  });

  test.each(["query", "pipeline"])("bad, expired and foreign tokens on %s", async (path) => {
    const expired = await mint("exists", "full-access", 1);
    await sleep(2100);
    const foreign = await mint("elsewhere");
    const forged = `${foreign.slice(0, -4)}AAAA`;
    for (const token of ["garbage", forged, expired, foreign]) {
      const existing = await answer("exists", token, path);
      const missing = await answer("never-created", token, path);
      expect(missing, token).toEqual(existing);
      expect([401, 403]).toContain(existing.status);
    }
    expect((await answer("exists", foreign, path)).code).toBe("FORBIDDEN");
    expect((await answer("exists", expired, path)).detail).toMatch(/expired/);
  });
});
