/**
 * JWT authentication on a live worker, through the unmodified @libsql/client and raw HTTP.
 */
import { createPublicKey } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { libsqlErrorOf } from "../../testkit/libsql";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, testKeys, type WorkerProcess } from "../../testkit/worker";

const keys = testKeys();
const otherKeys = testKeys();
const nowSeconds = () => Math.floor(Date.now() / 1000);

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess({ env: { SQLD_AUTH_JWT_KEY: keys.publicPem } });
  const admin = createClient({ url: worker.url, authToken: keys.token() });
  await admin.execute("CREATE TABLE notes (body TEXT)");
  await admin.execute("INSERT INTO notes VALUES ('hello')");
  admin.close();
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

describe.each(["http", "ws"] as const)("over %s", (transport) => {
  const url = () => (transport === "http" ? worker.url : worker.wsUrl);

  test("no token is refused", async () => {
    const client = createClient({ url: url() });
    const err = await libsqlErrorOf(client.execute("SELECT 1"));
    expect(err.code).toBe("AUTH_HEADER_NOT_FOUND");
    client.close();
  });

  test("a token signed by another key is refused", async () => {
    const client = createClient({ url: url(), authToken: otherKeys.token() });
    expect((await libsqlErrorOf(client.execute("SELECT 1"))).code).toBe("AUTH_JWT_INVALID");
    client.close();
  });

  test("an expired token is refused", async () => {
    // Beyond the 60 s leeway sqld grants.
    const client = createClient({ url: url(), authToken: keys.token({ exp: nowSeconds() - 120 }) });
    const err = await libsqlErrorOf(client.execute("SELECT 1"));
    expect(err.code).toBe("AUTH_JWT_EXPIRED");
    client.close();
  });

  test("a read-only token reads but cannot write", async () => {
    const client = createClient({
      url: url(),
      authToken: keys.token({ a: "ro", exp: nowSeconds() + 600 }),
    });
    const rs = await client.execute("SELECT body FROM notes");
    expect(rs.rows[0]?.body).toBe("hello");
    for (const sql of [
      "INSERT INTO notes VALUES ('nope')",
      "CREATE TABLE sneaky (x)",
      "DELETE FROM notes",
    ]) {
      const err = await libsqlErrorOf(client.execute(sql));
      expect(err.code).toBe("SQLITE_READONLY");
      expect(err.message).toMatch(/read access/);
    }
    // The read-only setting is not a pragma the client can undo.
    expect((await libsqlErrorOf(client.execute("PRAGMA query_only = 0"))).code).toBe("SQLITE_AUTH");
    expect(
      (await libsqlErrorOf(client.batch(["INSERT INTO notes VALUES ('x')"], "write"))).code,
    ).toBe("SQLITE_READONLY");
    client.close();
  });

  test("a full-access token writes, and its connection is not read-only for the next stream", async () => {
    const ro = createClient({ url: url(), authToken: keys.token({ a: "ro" }) });
    await ro.execute("SELECT 1");
    ro.close();
    const rw = createClient({
      url: url(),
      authToken: keys.token({ a: "rw", exp: nowSeconds() + 600 }),
    });
    await rw.execute("INSERT INTO notes VALUES ('written')");
    rw.close();
  });

  test("fine-grained permissions (p claim) for the default namespace", async () => {
    const ro = createClient({
      url: url(),
      authToken: keys.token({ p: { ro: { ns: ["default"] } } }),
    });
    expect((await libsqlErrorOf(ro.execute("INSERT INTO notes VALUES ('x')"))).code).toBe(
      "SQLITE_READONLY",
    );
    ro.close();
    const other = createClient({
      url: url(),
      authToken: keys.token({ p: { rw: { ns: ["other"] } } }),
    });
    expect((await libsqlErrorOf(other.execute("SELECT 1"))).code).toBe("AUTH_FORBIDDEN");
    other.close();
  });
});

test("HTTP errors are sqld-shaped JSON with a code", async () => {
  const res = await fetch(`${worker.url}/v2/pipeline`, {
    method: "POST",
    headers: { Authorization: `Bearer ${keys.token({ exp: nowSeconds() - 3600 })}` },
    body: JSON.stringify({ requests: [] }),
  });
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(await res.json()).toEqual({
    error: "Unauthorized: `The JWT has expired`",
    message: "The JWT has expired",
    code: "AUTH_JWT_EXPIRED",
  });
  const basic = await fetch(`${worker.url}/v2/pipeline`, {
    method: "POST",
    headers: { Authorization: "Basic dXNlcjpwYXNz" },
    body: "{}",
  });
  expect(basic.status).toBe(401);
  expect(((await basic.json()) as { code: string }).code).toBe(
    "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME",
  );
});

test("health, version and probes need no token", async () => {
  for (const path of ["/health", "/version", "/v2", "/v3"]) {
    expect((await fetch(`${worker.url}${path}`)).status).toBe(200);
  }
});

test("the key can be given as a file, as raw base64url, and several keys are accepted", async () => {
  const rawKey = createPublicKey(keys.publicPem).export({ format: "jwk" }).x as string;
  const keyFile = join(worker.dataDir, "keys.pem");
  writeFileSync(keyFile, `${otherKeys.publicPem}\n${keys.publicPem}`);
  const configs: Array<Record<string, string>> = [
    { SQLD_AUTH_JWT_KEY: rawKey },
    { SQLD_AUTH_JWT_KEY_FILE: keyFile },
  ];
  for (const env of configs) {
    const w = await startWorkerProcess({ env });
    try {
      const ok = createClient({ url: w.url, authToken: keys.token() });
      expect((await ok.execute("SELECT 1 AS one")).rows[0]?.one).toBe(1);
      ok.close();
      const anon = createClient({ url: w.url });
      expect((await libsqlErrorOf(anon.execute("SELECT 1"))).code).toBe("AUTH_HEADER_NOT_FOUND");
      anon.close();
    } finally {
      await w.stop();
      removeDir(w.dataDir);
    }
  }
});

test("a private key in the configuration is refused at start-up", async () => {
  const privatePem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  await expect(startWorkerProcess({ env: { SQLD_AUTH_JWT_KEY: privatePem } })).rejects.toThrow(
    /private key/,
  );
});
