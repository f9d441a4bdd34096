/**
 * Failed-auth throttling with the default thresholds: a client that keeps presenting bad tokens
 * gets 429 RATE_LIMITED with Retry-After on the API, on /db/{name}/ and on the control plane,
 * for every request until its budget refills; other clients are unaffected, and the header the
 * hosts pass the client's address in cannot be forged to escape.
 */
import { request } from "node:http";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CLIENT_ADDRESS_HEADER } from "../../../core/auth-throttle";
import { type Stack, startStack } from "../../../testkit/stack";
import { sleep } from "../../../testkit/wait";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

interface Answer {
  status: number;
  retryAfter: string | null;
  code: string;
}

/** A request from a chosen loopback source address (all of 127/8 is this machine). */
function call(
  base: string,
  path: string,
  options: { token: string; from?: string; headers?: Record<string, string>; body?: unknown },
): Promise<Answer> {
  const body = JSON.stringify(options.body ?? { sql: "SELECT 1" });
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method: "POST",
        localAddress: options.from ?? "127.0.0.1",
        headers: {
          Authorization: `Bearer ${options.token}`,
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let code = "";
          try {
            code = (JSON.parse(text) as { code?: string }).code ?? "";
          } catch {
            // not JSON
          }
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: (res.headers["retry-after"] as string | undefined) ?? null,
            code,
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

test("bad tokens from one client reach 429 on the API, /db/ and the control plane, then recover", async () => {
  const api = stack.runtimes.node.url;
  const statuses: number[] = [];
  for (let i = 0; i < 25; i++) {
    // A forged client address does not buy a fresh budget.
    const answer = await call(api, "/api/db/some-db/query", {
      token: `wrong-${i}`,
      headers: { [CLIENT_ADDRESS_HEADER]: `10.0.0.${i}` },
    });
    statuses.push(answer.status);
  }
  expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
  expect(statuses.slice(20)).toEqual(Array(5).fill(429));

  // Throttled means throttled for every credential, on every route of this host.
  const admin = await call(api, "/api/db/some-db/query", { token: stack.adminToken });
  expect(admin).toMatchObject({ status: 429, code: "RATE_LIMITED" });
  expect(Number(admin.retryAfter)).toBeGreaterThanOrEqual(1);
  const hrana = await call(api, "/db/some-db/v2/pipeline", {
    token: stack.adminToken,
    body: { requests: [] },
  });
  expect(hrana).toMatchObject({ status: 429, code: "RATE_LIMITED" });
  const ws = createClient({ url: `${api.replace("http", "ws")}/db/some-db/`, authToken: "wrong" });
  await expect(ws.execute("SELECT 1")).rejects.toThrow(/RATE_LIMITED|Too many failed/);
  ws.close();

  // Another client is not affected.
  const other = await call(api, "/api/db/some-db/query", { token: "wrong", from: "127.0.0.2" });
  expect(other.status).toBe(401);

  // After Retry-After, the client may try again.
  await sleep(Number(admin.retryAfter) * 1000 + 100);
  const created = await call(api, "/admin/databases", {
    token: stack.adminToken,
    body: { name: "after-throttle" },
  });
  expect(created.status).toBe(201);
});

test("the control plane throttles its own clients too", async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 25; i++) {
    const answer = await call(stack.cp.url, "/v1/databases", {
      token: `wrong-${i}`,
      from: "127.0.0.3",
      body: { name: "x" },
    });
    statuses.push(answer.status);
    if (answer.status === 429) expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  }
  expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
  expect(statuses.slice(20)).toEqual(Array(5).fill(429));
});
