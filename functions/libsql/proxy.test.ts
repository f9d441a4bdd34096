/** @libsql/client through /db/{name}/ (HTTP and WebSocket) on the Node host and Miniflare. */
import { createClient, LibsqlError } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../test/stack";

let stack: Stack;
const db = uniqueName("proxy");
const other = uniqueName("proxy-other");
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack();
  const rt = stack.runtimes.node;
  for (const name of [db, other])
    expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
  const mint = async (name: string, access: string) =>
    (
      (await (
        await rt.call("POST", `/admin/databases/${name}/tokens`, { body: { access } })
      ).json()) as { token: string }
    ).token;
  tokens.rw = await mint(db, "full-access");
  tokens.ro = await mint(db, "read-only");
  tokens.other = await mint(other, "full-access");
});
afterAll(() => stack.close());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LibsqlError);
  return (err as LibsqlError).code;
}

describe.each(RUNTIMES)("%s", (runtimeName) => {
  describe.each(["http", "ws"] as const)("over %s", (scheme) => {
    const url = (name = db) =>
      `${stack.runtimes[runtimeName].url.replace("http", scheme)}/db/${name}/`;
    const table = `${runtimeName}_${scheme}`;

    test("execute, batch, interactive transactions with a database token", async () => {
      const client = createClient({ url: url(), authToken: tokens.rw });
      await client.execute(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, v TEXT)`);
      await client.execute({ sql: `INSERT INTO ${table} (v) VALUES (?)`, args: ["one"] });
      await client.batch(
        [`INSERT INTO ${table} (v) VALUES ('two')`, `INSERT INTO ${table} (v) VALUES ('three')`],
        "write",
      );
      const tx = await client.transaction("write");
      await tx.execute(`INSERT INTO ${table} (v) VALUES ('rolled back')`);
      await tx.rollback();
      const kept = await client.transaction("write");
      await kept.execute(`INSERT INTO ${table} (v) VALUES ('four')`);
      await kept.commit();
      const rs = await client.execute(`SELECT v FROM ${table} ORDER BY id`);
      expect(rs.rows.map((r) => r.v)).toEqual(["one", "two", "three", "four"]);
      client.close();
    });

    test("the admin token works too; read-only tokens cannot write", async () => {
      const admin = createClient({ url: url(), authToken: stack.adminToken });
      expect((await admin.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n).toBe(4);
      admin.close();
      const reader = createClient({ url: url(), authToken: tokens.ro });
      expect((await reader.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n).toBe(4);
      expect(await codeOf(reader.execute(`DELETE FROM ${table}`))).toBe("SQLITE_READONLY");
      reader.close();
    });

    test("wrong credentials and unknown databases are clear errors", async () => {
      const cases: Array<[string, string | undefined, string]> = [
        [db, undefined, "UNAUTHORIZED"],
        [db, "garbage", "UNAUTHORIZED"],
        [db, tokens.other, "FORBIDDEN"],
        ["missing-db", stack.adminToken, "DATABASE_NOT_FOUND"],
      ];
      for (const [name, authToken, code] of cases) {
        const client = createClient({ url: url(name), ...(authToken ? { authToken } : {}) });
        expect(await codeOf(client.execute("SELECT 1"))).toBe(code);
        client.close();
      }
    });
  });
});
