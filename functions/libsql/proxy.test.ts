/** @libsql/client through /db/{name}/ (HTTP and WebSocket) on the Node host and Miniflare. */

import { randomBytes } from "node:crypto";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { codeOf } from "../../testkit/libsql";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";
import { sendRaw, targetOf } from "../test/fuzz/raw-http";

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

  describe("percent-encoded names (one rule: decoded, then validated)", () => {
    const rt = () => stack.runtimes[runtimeName];
    const pipeline = (name: string) =>
      fetch(`${rt().url}/db/${name}/v2/pipeline`, {
        method: "POST",
        headers: { Authorization: `Bearer ${tokens.rw}`, "Content-Type": "application/json" },
        body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "SELECT 1 AS one" } }] }),
      });

    test("an encoded name is the same database (POST /db/%70roxy-…/v2/pipeline was a 500)", async () => {
      const encoded = `%${db.charCodeAt(0).toString(16)}${db.slice(1).replaceAll("-", "%2D")}`;
      const plain = await pipeline(db);
      const viaEncoded = await pipeline(encoded);
      expect(plain.status).toBe(200);
      expect(viaEncoded.status).toBe(200);
      const rows = (res: unknown) =>
        (res as { results: Array<{ response: { result: { rows: unknown } } }> }).results[0]
          ?.response.result.rows;
      expect(rows(await viaEncoded.json())).toEqual(rows(await plain.json()));
    });

    test("a name that does not decode, or decodes to no name, is 400 INVALID_NAME", async () => {
      for (const name of ["%E0%A4%A", "%", "%00", "%2F", "A%20b", "%FF%FE"]) {
        const res = await pipeline(name);
        expect(res.status, name).toBe(400);
        expect(((await res.json()) as { code: string }).code, name).toBe("INVALID_NAME");
      }
    });

    test("WebSocket upgrades get the same answer (one to /db/%E0%A4%A/ ended the Node host)", async () => {
      const upgrade = (name: string) =>
        sendRaw(
          targetOf(rt().url),
          [
            Buffer.from(
              `GET /db/${name}/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: hrana3\r\n\r\n`,
            ),
          ],
          { timeoutMs: 5_000, wholeBody: true },
        );
      for (const name of ["%E0%A4%A", "%", "%2F"]) {
        const res = await upgrade(name);
        expect(res.status, name).toBe(400);
        expect(JSON.parse(res.body.toString()).code, name).toBe("INVALID_NAME");
      }
      // The encoded name of a real database upgrades like the plain one.
      expect((await upgrade(`%${db.charCodeAt(0).toString(16)}${db.slice(1)}`)).status).toBe(101);
      expect((await fetch(`${rt().url}/health`)).status).toBe(200);
    });
  });
});
