/**
 * Fuzz test of every HTTP entry point: the Node functions host (in this process), Miniflare,
 * the control plane process and a database worker get thousands of generated hostile requests
 * (paths from the real route table with bad percent-encoding, invalid UTF-8, dot segments and
 * huge segments; unknown methods; garbage, huge and duplicate credentials; broken bodies and
 * framing; WebSocket upgrades good and bad). Every answer must be below 500, or a documented
 * 503/504/507 with a JSON `code`; every process must still be up, and the databases answer.
 *
 * Reproducible: the seed is printed; FUZZ_SEED=<seed> replays the same requests (each request
 * has its own generator, so FUZZ_ONLY=<target,...> replays a subset identically), and
 * FUZZ_VERBOSE=1 logs the requests that got no answer. Every failure is written to
 * test-artifacts/fuzz-failures.txt.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ARTIFACTS_DIR } from "../../testkit/paths";
import { NO_RATE_LIMITS, type Stack, startStack, uniqueName } from "../../testkit/stack";
import { startFunctionsHost } from "../host/node";
import { runPool, Tally } from "./fuzz/pool";
import { fuzzSeed, Rng } from "./fuzz/prng";
import { sendRaw, targetOf } from "./fuzz/raw-http";
import {
  controlPlaneRequest,
  type FuzzContext,
  type FuzzRequest,
  functionsRequest,
  servicePath,
  upgradeRequest,
  workerRequest,
} from "./fuzz/requests";
import { describeRequest, judge, send } from "./fuzz/send";
import { wsSession } from "./fuzz/ws-session";

const SEED = fuzzSeed();
/** Every failure, when there are any (the assertion shows the first 20). */
const CONCURRENCY = 24;
const REQUEST_TIMEOUT_MS = 5_000;
/** Requests per target; the Node host gets the most (it is where the reported crash was). */
const PLAN = {
  node: 9_000,
  "node-upgrade": 1_000,
  "node-ws": 200,
  miniflare: 1_400,
  "miniflare-ws": 100,
  "control-plane": 300,
  "control-plane-upgrade": 50,
  // The worker frames its Hrana POSTs itself (its hot path) and hands the rest to node:http.
  worker: 1_000,
  "worker-upgrade": 100,
  "worker-ws": 50,
} as const;
type Target = keyof typeof PLAN;

let stack: Stack;
let ctx: FuzzContext;
let worker: { url: string; token: string };
/** The worker process of each database under test. */
let workerPids: number[];

beforeAll(async () => {
  console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
  // Failed-auth throttling would answer nearly every request 429 after the first few bad
  // tokens, before any route ran: the fuzzer needs the routes, so the budgets are unlimited.
  const unthrottled = { burst: "1000000000", perMinute: "1000000000" };
  stack = await startStack(
    {
      DBFORGE_AUTH_FAILURE_BURST: unthrottled.burst,
      DBFORGE_AUTH_FAILURES_PER_MINUTE: unthrottled.perMinute,
      // No health loop during the run: this test checks the worker processes itself, and a
      // health check in flight while the control plane shuts down can restart a worker it
      // has just stopped, leaving it orphaned (manager.ts: shutdown does not stop healthTick).
      DBFORGE_HEALTH_INTERVAL_MS: "600000",
    },
    { AUTH_FAILURE_BURST: unthrottled.burst, AUTH_FAILURES_PER_MINUTE: unthrottled.perMinute },
  );
  const rt = stack.runtimes.node;
  const [a, b, other] = [uniqueName("fuzz"), uniqueName("fuzz-b"), uniqueName("fuzz-other")];
  for (const name of [a, b, other])
    expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
  const mint = async (name: string, access: string) => {
    const res = await rt.call("POST", `/admin/databases/${name}/tokens`, { body: { access } });
    return ((await res.json()) as { token: string }).token;
  };
  for (const name of [a, b]) {
    const res = await rt.call("POST", `/api/db/${name}/query`, {
      body: { sql: "CREATE TABLE t (x)" },
    });
    expect(res.status).toBe(200);
  }
  ctx = {
    databases: [a, b],
    tables: ["t", "sqlite_master"],
    creds: {
      admin: stack.adminToken,
      database: [await mint(a, "full-access"), await mint(b, "read-only")],
      foreign: await mint(other, "full-access"),
    },
    maxBodyBytes: 1024 * 1024, // MAX_BODY_BYTES in startStack
  };
  const infos = await Promise.all(
    ctx.databases.map(
      async (name) =>
        (await (await stack.cp.api("GET", `/v1/databases/${name}`)).json()) as {
          url: string;
          workerId: string;
        },
    ),
  );
  workerPids = infos.map((info) => Number(info.workerId));
  expect(workerPids.every(Number.isInteger)).toBe(true);
  const resolved = (await (await stack.cp.api("POST", `/v1/databases/${a}/resolve`)).json()) as {
    token: string;
  };
  worker = { url: infos[0]!.url, token: resolved.token };
});
afterAll(() => stack?.close());

/** Each request has its own generator (seed, target, index), so one can be replayed alone. */
function rngFor(target: Target, index: number): Rng {
  let h = SEED ^ Math.imul(index + 1, 0x9e3779b1);
  for (const ch of target) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return new Rng(h >>> 0);
}

function request(target: Target, rng: Rng): { base: string; req: FuzzRequest } {
  switch (target) {
    case "control-plane":
      return { base: stack.cp.url, req: controlPlaneRequest(rng, ctx) };
    case "control-plane-upgrade":
      return {
        base: stack.cp.url,
        req: upgradeRequest(rng, ctx, servicePath(rng, ctx, "control-plane")),
      };
    case "worker":
      return { base: worker.url, req: workerRequest(rng, ctx, worker.token) };
    case "worker-upgrade":
      return { base: worker.url, req: upgradeRequest(rng, ctx, servicePath(rng, ctx, "worker")) };
    case "node-upgrade":
      return { base: stack.runtimes.node.url, req: upgradeRequest(rng, ctx) };
    case "miniflare":
      return { base: stack.runtimes.miniflare.url, req: functionsRequest(rng, ctx) };
    default:
      return { base: stack.runtimes.node.url, req: functionsRequest(rng, ctx) };
  }
}

async function runOne(target: Target, index: number, tally: Tally, failures: string[]) {
  const rng = rngFor(target, index);
  const where = `[seed ${SEED} ${target} #${index}]`;
  if (target === "node-ws" || target === "miniflare-ws" || target === "worker-ws") {
    // The worker speaks Hrana over WebSocket on any path, with the tokens resolve mints.
    const [base, creds] =
      target === "worker-ws"
        ? [worker.url, { ...ctx.creds, database: [worker.token] }]
        : [stack.runtimes[target === "node-ws" ? "node" : "miniflare"].url, ctx.creds];
    const outcome = await wsSession(rng, base, ctx.databases, creds, 300);
    tally.add(target, outcome.status === undefined ? "error" : String(outcome.status));
    if ((outcome.status ?? 0) >= 500)
      failures.push(`${where} HTTP ${outcome.status}: ${outcome.body}\n  ${outcome.description}`);
    if (outcome.internalError)
      failures.push(`${where} ${outcome.internalError}\n  ${outcome.description}`);
    return;
  }
  const { base, req } = request(target, rng);
  const outcome = await send(base, req, REQUEST_TIMEOUT_MS);
  tally.add(
    target,
    outcome.status === 501
      ? "501"
      : outcome.status !== undefined
        ? `${Math.floor(outcome.status / 100)}xx`
        : outcome.timedOut
          ? "timeout"
          : "closed",
  );
  const failure = judge(req, outcome, target === "miniflare");
  if (process.env.FUZZ_VERBOSE && outcome.status === undefined)
    console.log(
      `${where} no answer (${outcome.timedOut ? "timeout" : (outcome.error ?? "closed")}): ${describeRequest(req)}`,
    );
  if (failure) failures.push(`${where} ${failure}\n  ${describeRequest(req)}`);
}

function alive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

/** The tails of the worker logs under the control plane's data directory (for a post-mortem). */
function workerLogs(dataDir: string): string {
  const logs = readdirSync(dataDir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".log"),
  );
  return logs
    .map((f) => `== ${f}\n${readFileSync(join(dataDir, f), "utf8").slice(-3000)}`)
    .join("\n");
}

/**
 * Sends headers and part of a body to a route that reads it, then nothing: the server must
 * answer 408 or hang up.
 */
async function slowBody(url: string, path: string, withinMs: number) {
  const started = Date.now();
  const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`;
  const res = await sendRaw(targetOf(url), [Buffer.from(head)], { timeoutMs: withinMs });
  return { ...res, elapsed: Date.now() - started };
}

test("every entry point answers hostile requests below 500 and stays up", async () => {
  const started = Date.now();
  // The control plane's own timeouts (CONTROL_PLANE_TIMEOUTS: 10 s for a request) cut off a
  // client that never finishes its body; checked while the fuzzing runs.
  const controlPlaneSlow = slowBody(stack.cp.url, "/v1/databases", 15_000);
  const jobs: Array<[Target, number]> = [];
  // FUZZ_ONLY=worker,node narrows a replay to some targets.
  const only = process.env.FUZZ_ONLY?.split(",");
  for (const [target, count] of Object.entries(PLAN) as Array<[Target, number]>)
    if (!only || only.includes(target)) for (let i = 0; i < count; i++) jobs.push([target, i]);
  // A seeded shuffle: every target is under load at the same time.
  const order = new Rng(SEED);
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = order.int(0, i);
    [jobs[i], jobs[j]] = [jobs[j] as [Target, number], jobs[i] as [Target, number]];
  }
  const tally = new Tally();
  const failures: string[] = [];
  await runPool(jobs, CONCURRENCY, ([target, index]) => runOne(target, index, tally, failures));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`fuzz: ${jobs.length} requests in ${seconds} s (seed ${SEED})\n${tally}`);
  if (failures.length) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    writeFileSync(join(ARTIFACTS_DIR, "fuzz-failures.txt"), failures.join("\n"));
  }
  expect(failures.slice(0, 20).join("\n"), `${failures.length} failures`).toBe("");

  // Everything is still up and serving.
  expect(stack.cp.process.exitCode).toBeNull();
  expect(stack.cp.process.signalCode).toBeNull();
  // The same worker processes: none crashed, hung (restarted as unhealthy) or was restarted.
  const postMortem = () =>
    `${workerLogs(stack.cp.dataDir)}\n${stack.cp.output.slice(-30).join("\n")}`;
  expect(
    stack.cp.output.filter((line) => line.includes("restarting worker")),
    postMortem(),
  ).toEqual([]);
  for (const pid of workerPids) expect(alive(pid), `worker ${pid}: ${postMortem()}`).toBe(true);
  for (const rt of Object.values(stack.runtimes)) {
    expect((await rt.call("GET", "/health", { token: null })).status).toBe(200);
    for (const name of ctx.databases) {
      const res = await rt.call("POST", `/api/db/${name}/query`, { body: { sql: "SELECT 1" } });
      expect(res.status, `${rt.name} ${name}`).toBe(200);
    }
  }
  const slow = await controlPlaneSlow;
  expect(slow.timedOut, "the control plane kept a never-finished request open").toBe(false);
  expect([408, undefined]).toContain(slow.status);
}, 120_000);

test("a client that never finishes its request is cut off (Node host)", async () => {
  const host = await startFunctionsHost({
    env: { CONTROL_PLANE_URL: stack.cp.url, ...NO_RATE_LIMITS },
    hostname: "127.0.0.1",
    port: 0,
    timeouts: { headersMs: 500, requestMs: 1_000 },
  });
  try {
    const body = await slowBody(host.url, "/api/db/nope/query", 5_000);
    expect(body.timedOut).toBe(false);
    expect([408, undefined]).toContain(body.status);
    expect(body.elapsed).toBeLessThan(4_000);
    // Headers trickling in (slowloris) are cut off by the headers timeout.
    const started = Date.now();
    const chunks = ["GET /health HTTP/1.1\r\n", ...Array(30).fill("X-Slow: 1\r\n")];
    const trickle = await sendRaw(
      targetOf(host.url),
      chunks.map((c) => Buffer.from(c)),
      { timeoutMs: 8_000, pauseMs: 200 },
    );
    expect(trickle.timedOut).toBe(false);
    expect([408, undefined]).toContain(trickle.status);
    expect(Date.now() - started).toBeLessThan(4_000);
  } finally {
    await host.close();
  }
});
