/**
 * Stored SQL (Hrana store_sql) is bounded per worker, not only per stream as in sqld: HTTP
 * streams and WebSockets share one budget (DBFORGE_MAX_STORED_SQL_BYTES, by default a share of
 * DBFORGE_MEMORY_LIMIT). Past it store_sql fails with SQL_STORE_TOO_MANY while everything else
 * goes on, and texts come back to the budget as their streams and sockets end.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Json, RawClient } from "../../testkit/hrana-ws";
import { removeDir } from "../../testkit/temp";
import { sleep } from "../../testkit/wait";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

/** sqld's largest text over HTTP is 5,000 bytes; each costs the budget ~10 KB (UTF-16). */
const TEXT = `SELECT '${"x".repeat(4980)}'`;

function pipeline(worker: WorkerProcess, requests: Json[], baton: string | null = null) {
  return fetch(`${worker.url}/v2/pipeline`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ baton, requests }),
  }).then(async (res) => {
    expect(res.status).toBe(200);
    return (await res.json()) as { baton: string | null; results: Json[] };
  });
}

/** A stream left open with up to 50 texts stored; its baton and each store's result. */
async function streamHolding(worker: WorkerProcess, texts = 50) {
  const body = await pipeline(
    worker,
    Array.from({ length: texts }, (_, i) => ({ type: "store_sql", sql_id: i, sql: TEXT })),
  );
  return { baton: body.baton as string, codes: body.results.map((r) => r.error?.code ?? "ok") };
}

describe("a 1 MiB budget", () => {
  let worker: WorkerProcess;
  beforeAll(async () => {
    worker = await startWorkerProcess({ env: { DBFORGE_MAX_STORED_SQL_BYTES: "1MiB" } });
  });
  afterAll(async () => {
    await worker.stop();
    removeDir(worker.dataDir);
  });

  test("fills over HTTP streams, refuses clearly, and frees as streams close", async () => {
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await streamHolding(worker));
    const codes = streams.flatMap((s) => s.codes);
    const stored = codes.filter((c) => c === "ok").length;
    // 1 MiB / ~10 KB: about a hundred texts, whatever stream holds them.
    expect(stored).toBeGreaterThan(90);
    expect(stored).toBeLessThan(110);
    expect(new Set(codes.slice(stored))).toEqual(new Set(["SQL_STORE_TOO_MANY"]));

    // What is stored still runs, and statements that store nothing still work.
    const first = streams[0] as { baton: string };
    const used = await pipeline(
      worker,
      [
        { type: "execute", stmt: { sql_id: 49 } },
        { type: "execute", stmt: { sql: "SELECT 1" } },
      ],
      first.baton,
    );
    expect(used.results.map((r) => r.type)).toEqual(["ok", "ok"]);
    first.baton = used.baton as string;

    for (const { baton } of streams) await pipeline(worker, [{ type: "close" }], baton);
    const again = await streamHolding(worker);
    expect(again.codes.every((c) => c === "ok")).toBe(true);
    await pipeline(worker, [{ type: "close" }], again.baton);
  });

  test("is shared with WebSockets, and a closed socket gives its texts back", async () => {
    const client = await RawClient.connect(worker.wsUrl);
    expect((await client.hello()).type).toBe("hello_ok");
    // Over a WebSocket sqld stores texts of any size: the budget is the only bound.
    const big = `SELECT '${"y".repeat(200_000)}'`;
    const results: Json[] = [];
    for (let id = 1; id <= 3; id++) {
      results.push(await client.request({ type: "store_sql", sql_id: id, sql: big }));
    }
    expect(results.map((r) => r.type)).toEqual(["response_ok", "response_ok", "response_error"]);
    expect(results[2]?.error.code).toBe("SQL_STORE_TOO_MANY");
    // The HTTP streams feel it: ~250 KB are left for them (texts cost 2 bytes a character).
    const squeezed = await streamHolding(worker);
    expect(squeezed.codes).toContain("SQL_STORE_TOO_MANY");
    await pipeline(worker, [{ type: "close" }], squeezed.baton);

    client.ws.close();
    await client.closed;
    let codes: string[] = [];
    for (let i = 0; i < 50; i++) {
      const probe = await streamHolding(worker);
      await pipeline(worker, [{ type: "close" }], probe.baton);
      codes = probe.codes;
      if (codes.every((c) => c === "ok")) break;
      await sleep(20); // the worker sees the socket close a moment after the client
    }
    expect(codes.every((c) => c === "ok")).toBe(true);
  });

  test("a text larger than the whole budget is refused as too large", async () => {
    const client = await RawClient.connect(worker.wsUrl);
    await client.hello();
    const answer = await client.request({
      type: "store_sql",
      sql_id: 1,
      sql: `SELECT '${"z".repeat(600_000)}'`,
    });
    expect(answer.error.code).toBe("SQL_STORE_TOO_LARGE");
    expect(answer.error.message).toMatch(/server's \d+ for stored SQL/);
    client.ws.close();
  });
});

test("by default the budget is a share of the memory limit, and the worker serves on", async () => {
  // 64 MiB of memory: a 3.2 MiB budget, ~330 texts of HTTP's largest kind.
  const worker = await startWorkerProcess({ env: { DBFORGE_MEMORY_LIMIT: "64MiB" } });
  try {
    let stored = 0;
    let refused = 0;
    const batons: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { baton, codes } = await streamHolding(worker);
      batons.push(baton);
      stored += codes.filter((c) => c === "ok").length;
      refused += codes.filter((c) => c === "SQL_STORE_TOO_MANY").length;
    }
    expect(stored).toBeGreaterThan(300);
    expect(stored).toBeLessThan(360);
    expect(stored + refused).toBe(500);
    const health = await fetch(`${worker.url}/health`);
    expect(health.status).toBe(200);
    const query = await pipeline(worker, [{ type: "execute", stmt: { sql: "SELECT 1" } }]);
    expect(query.results[0]?.type).toBe("ok");
  } finally {
    await worker.stop();
    removeDir(worker.dataDir);
  }
});
