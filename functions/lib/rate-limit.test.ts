/**
 * Rate limits on the Node host and Miniflare: a credential past its bucket gets 429 RATE_LIMITED
 * with Retry-After and the RateLimit headers, on REST and on the libSQL proxy, recovers after
 * the window, and a database's bucket holds whatever the credentials.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(
    {},
    {
      RATE_LIMIT_PER_CREDENTIAL: "5",
      RATE_LIMIT_CREDENTIAL_BURST: "10",
      RATE_LIMIT_PER_DATABASE: "20",
      RATE_LIMIT_DATABASE_BURST: "40",
    },
  );
});
afterAll(() => stack.close());

// Set-up goes to the control plane directly: through the functions it would spend the admin
// token's own bucket.
async function createDatabase(name: string): Promise<void> {
  expect((await stack.cp.api("POST", "/v1/databases", { name })).status).toBe(201);
}

let minted = 0;
/** A token of its own: tokens minted in the same second with the same claims are identical. */
async function mint(db: string): Promise<string> {
  const res = await stack.cp.api("POST", `/v1/databases/${db}/tokens`, {
    expiresIn: 3600 + ++minted,
  });
  return ((await res.json()) as { token: string }).token;
}

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];

  test("past its burst a credential gets 429 with Retry-After and RateLimit headers, then recovers", async () => {
    const db = uniqueName("limited");
    await createDatabase(db);
    const token = await mint(db);
    const statuses: number[] = [];
    let limited: Response | undefined;
    const first = await rt().call("POST", `/api/db/${db}/query`, {
      token,
      body: { sql: "SELECT 1" },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("10");
    expect(first.headers.get("ratelimit-remaining")).toBe("9");
    expect(first.headers.get("ratelimit-policy")).toContain('"credential";q=10;w=2');
    expect(first.headers.get("ratelimit")).toMatch(/"credential";r=9;t=\d+/);
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      const res = await rt().call("POST", `/api/db/${db}/query`, {
        token,
        body: { sql: "SELECT 1" },
      });
      statuses.push(res.status);
      if (res.status === 429 && !limited) limited = res;
      else await res.body?.cancel();
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(9);
    // The burst (less the first request), plus what refilled (5 a second) meanwhile.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * 5);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(9 + refilled + 1);
    expect(limited).toBeDefined();
    const res = limited as Response;
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(res.headers.get("ratelimit-remaining")).toBe("0");
    const problem = await problemOf(res);
    expect(problem.code).toBe("RATE_LIMITED");
    expect(problem.status).toBe(429);

    // The libSQL proxy is limited too (on the Node host by the same bucket; under Miniflare
    // each entry is an isolate with buckets of its own).
    const client = createClient({ url: `${rt().url}/db/${db}/`, authToken: token });
    const proxied = await (async () => {
      for (let i = 0; i < 15; i++) await client.execute("SELECT 1");
    })().catch((err: Error) => err);
    expect(String(proxied)).toMatch(/RATE_LIMITED|Too many requests/);
    client.close();

    // And over a WebSocket every request counts: refused ones get RATE_LIMITED, the socket stays.
    const ws = createClient({
      url: `${rt().url.replace(/^http/, "ws")}/db/${db}/`,
      authToken: token,
    });
    const overWs = await (async () => {
      for (let i = 0; i < 15; i++) await ws.execute("SELECT 1");
    })().catch((err: { code?: string }) => err);
    expect(overWs).toMatchObject({ code: "RATE_LIMITED" });
    ws.close();

    // Another credential is not limited by this one's bucket.
    const other = await mint(db);
    expect(
      (await rt().call("POST", `/api/db/${db}/query`, { token: other, body: { sql: "SELECT 1" } }))
        .status,
    ).toBe(200);

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    const recovered = await rt().call("POST", `/api/db/${db}/query`, {
      token,
      body: { sql: "SELECT 1" },
    });
    expect(recovered.status).toBe(200);
  });

  test("a database's bucket holds across credentials", async () => {
    const db = uniqueName("hot");
    await createDatabase(db);
    // Ten credentials of 10 each: more than the database's 40, so the database's bucket is hit.
    const tokens = await Promise.all(Array.from({ length: 10 }, () => mint(db)));
    let limited: Response | undefined;
    let ok = 0;
    const started = Date.now();
    for (let i = 0; i < 100 && !limited; i++) {
      const res = await rt().call("POST", `/api/db/${db}/query`, {
        token: tokens[i % tokens.length] as string,
        body: { sql: "SELECT 1" },
      });
      if (res.status === 429) limited = res;
      else {
        ok++;
        await res.body?.cancel();
      }
    }
    // The burst, plus what refilled (20 a second) while the loop ran.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * 20);
    expect(ok).toBeGreaterThanOrEqual(39);
    expect(ok).toBeLessThanOrEqual(40 + refilled + 1);
    expect(limited).toBeDefined();
    expect(((await (limited as Response).json()) as { policy: string }).policy).toBe("database");
  });
});
