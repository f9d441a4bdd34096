/**
 * A pooled worker claimed over HTTP (the Docker driver's pool, src/pool-channel.ts), as its own
 * process: until the claim it answers nothing but its pool routes and only to the secret's
 * holder, bad claims leave it waiting, a claim makes it serve exactly that database (once), and
 * an unclaimed worker whose lease is not renewed exits by itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { engineEnv } from "../../testkit/engine";
import { WORKER_BUNDLE } from "../../testkit/paths";
import { freePort } from "../../testkit/ports";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { sleep } from "../../testkit/wait";
import { testKeys } from "../../testkit/worker";

const SECRET = randomBytes(32).toString("base64url");
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) removeDir(dir);
});

async function pooledWorker(leaseMs = 60_000): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [WORKER_BUNDLE], {
    env: {
      PATH: process.env.PATH,
      ...engineEnv,
      SQLD_HTTP_LISTEN_ADDR: `127.0.0.1:${port}`,
      DBFORGE_POOL_SLOT: "test",
      DBFORGE_POOL_SECRET: SECRET,
      DBFORGE_POOL_LEASE_MS: String(leaseMs),
    },
    stdio: "ignore",
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(50)) {
    const res = await fetch(`${url}/dbforge/v1/pool`, { headers: bearer(SECRET) }).catch(
      () => undefined,
    );
    if (res?.status === 200) return { url, child };
  }
  throw new Error("the pooled worker did not get ready");
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

const claim = (url: string, body: string, secret = SECRET) =>
  fetch(`${url}/dbforge/v1/pool/claim`, {
    method: "POST",
    headers: { ...bearer(secret), "content-type": "application/json" },
    body,
  });

test("unclaimed, it answers only its pool routes to the secret; a claim makes it serve that database, once", async () => {
  const { url } = await pooledWorker();
  // Nothing of a database before the claim, whoever asks.
  expect((await fetch(`${url}/health`)).status).toBe(404);
  expect((await fetch(`${url}/health`, { headers: bearer(SECRET) })).status).toBe(404);
  expect((await fetch(`${url}/v2/pipeline`, { method: "POST", body: "{}" })).status).toBe(404);
  expect((await fetch(`${url}/dbforge/v1/pool`)).status).toBe(401);
  expect((await fetch(`${url}/dbforge/v1/pool`, { headers: bearer("x".repeat(43)) })).status).toBe(
    401,
  );
  const keys = testKeys();
  const dataDir = makeTempDir("pool-claim");
  dirs.push(dataDir);
  const env = { SQLD_DB_PATH: join(dataDir, "iku.db"), SQLD_AUTH_JWT_KEY: keys.publicPem };
  expect((await claim(url, JSON.stringify({ env }), "y".repeat(43))).status).toBe(401);
  // Bad claims are refused and leave it waiting.
  for (const bad of ["not json", "{}", JSON.stringify({ env: { A: 1 } }), "x".repeat(100_000)]) {
    expect((await claim(url, bad)).status, bad.slice(0, 20)).toBe(400);
  }
  expect((await fetch(`${url}/dbforge/v1/pool`, { headers: bearer(SECRET) })).status).toBe(200);

  const claimed = await claim(url, JSON.stringify({ env }));
  expect(claimed.status).toBe(200);
  expect(await claimed.json()).toEqual({ port: Number(new URL(url).port) });
  // Now it is that database's worker, with its key, on the same address.
  const pipeline = (token?: string) =>
    fetch(`${url}/v2/pipeline`, {
      method: "POST",
      headers: token ? bearer(token) : {},
      body: JSON.stringify({
        requests: [{ type: "execute", stmt: { sql: "SELECT 40 + 2 AS n" } }, { type: "close" }],
      }),
    });
  const answer = await pipeline(keys.token());
  expect(answer.status).toBe(200);
  expect(JSON.stringify(await answer.json())).toContain('"42"');
  expect((await pipeline()).status).toBe(401);
  // The pool routes are gone with the claim: it cannot be claimed again.
  expect((await claim(url, JSON.stringify({ env }))).status).not.toBe(200);
  expect((await fetch(`${url}/dbforge/v1/pool`, { headers: bearer(SECRET) })).status).not.toBe(200);
});

test("an unclaimed worker whose lease is not renewed exits by itself", async () => {
  const { child } = await pooledWorker(1500);
  const exited = new Promise<number | null>((done) => child.once("exit", done));
  const started = Date.now();
  expect(await Promise.race([exited, sleep(10_000).then(() => "still running")])).toBe(0);
  expect(Date.now() - started).toBeLessThan(5000);
});
