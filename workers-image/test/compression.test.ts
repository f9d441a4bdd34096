/**
 * The worker compresses large answers as sqld does (brotli or gzip, as Accept-Encoding
 * prefers): pipelines, cursors and dumps decompress to exactly the bytes an uncompressed answer
 * has; small answers and clients that accept no encoding get them as they are. A real client
 * (@libsql/client, whose fetch offers compression) reads a big select through it.
 */
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { createClient } from "@libsql/client";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { COMPRESS_FROM } from "../../core/compression";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess();
  const db = createClient({ url: worker.url });
  await db.batch([
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)",
    "INSERT INTO t SELECT value, 'name ' || value, value / 7.0 FROM generate_series(1, 3000)",
  ]);
  db.close();
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

const decoders = { br: brotliDecompressSync, gzip: gunzipSync };

/** The raw answer (undici's request does not decompress). */
async function raw(path: string, accept: string | undefined, body?: unknown) {
  const res = await request(`${worker.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      ...(accept === undefined ? {} : { "accept-encoding": accept }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const encoding = res.headers["content-encoding"] as "br" | "gzip" | undefined;
  const length = res.headers["content-length"];
  if (length !== undefined) expect(Number(length)).toBe(bytes.length);
  return {
    status: res.statusCode,
    encoding,
    vary: res.headers.vary,
    bytes: bytes.length,
    text: (encoding ? decoders[encoding](bytes) : bytes).toString(),
  };
}

const select = (sql: string) => ({
  requests: [{ type: "execute", stmt: { sql } }, { type: "close" }],
});
/** A pipeline's answer with what differs from run to run taken out. */
const stable = (text: string) =>
  text.replace(/"query_duration_ms":[\d.e+-]+/g, "").replace(/"baton":"[^"]*"/g, "");

describe.each([
  ["br", "gzip, deflate, br"],
  ["gzip", "gzip, deflate"],
  ["gzip", "br;q=0.5, gzip"],
] as const)("%s (Accept-Encoding: %s)", (expected, accept) => {
  test("a big select's pipeline answer, compressed, is the plain answer", async () => {
    const body = select("SELECT * FROM t");
    const plain = await raw("/v2/pipeline", undefined, body);
    const packed = await raw("/v2/pipeline", accept, body);
    expect(plain.encoding).toBeUndefined();
    expect(packed).toMatchObject({ status: 200, encoding: expected, vary: "Accept-Encoding" });
    expect(stable(packed.text)).toBe(stable(plain.text));
    expect(packed.bytes).toBeLessThan(plain.bytes / 4);
  });

  test("cursors and dumps are compressed too", async () => {
    const cursor = {
      baton: null,
      batch: { steps: [{ stmt: { sql: "SELECT * FROM t" } }] },
    };
    const plainCursor = await raw("/v3/cursor", undefined, cursor);
    const packedCursor = await raw("/v3/cursor", accept, cursor);
    expect(packedCursor.encoding).toBe(expected);
    expect(stable(packedCursor.text)).toBe(stable(plainCursor.text));

    const plainDump = await raw("/dump", undefined);
    const packedDump = await raw("/dump", accept);
    expect(packedDump).toMatchObject({ status: 200, encoding: expected });
    expect(packedDump.text).toBe(plainDump.text);
    expect(packedDump.text).toContain("VALUES(3000,3000,'name 3000',");
  });
});

test("small answers, identity and refused encodings stay uncompressed", async () => {
  const small = await raw("/v2/pipeline", "gzip, br", select("SELECT 1"));
  expect(small.bytes).toBeLessThan(COMPRESS_FROM);
  expect(small.encoding).toBeUndefined();
  for (const accept of ["identity", "br;q=0, gzip;q=0", "deflate", ""]) {
    const big = await raw("/v2/pipeline", accept, select("SELECT * FROM t"));
    expect(big.encoding, accept).toBeUndefined();
    expect(big.bytes).toBeGreaterThan(COMPRESS_FROM);
  }
  // Errors and probes are small and stay as sqld sends them.
  expect((await raw("/v2", "gzip")).encoding).toBeUndefined();
});

test("@libsql/client reads a big select through compression", async () => {
  const db = createClient({ url: worker.url });
  const rows = await db.execute("SELECT * FROM t ORDER BY id");
  expect(rows.rows).toHaveLength(3000);
  expect(rows.rows[2999]).toMatchObject({ id: 3000, name: "name 3000" });
  db.close();
});

test("a client that leaves in the middle of a compressed dump leaves a healthy worker", async () => {
  const db = createClient({ url: worker.url });
  await db.execute(
    "CREATE TABLE big AS SELECT value AS id, hex(randomblob(1000)) AS v FROM generate_series(1, 8000)",
  );
  for (let round = 0; round < 3; round++) {
    const res = await request(`${worker.url}/dump`, { headers: { "accept-encoding": "gzip" } });
    expect(res.headers["content-encoding"]).toBe("gzip");
    for await (const _chunk of res.body) break; // first piece, then away
  }
  const after = await db.execute("SELECT count(*) AS n FROM big");
  expect(after.rows[0]?.n).toBe(8000);
  expect((await request(`${worker.url}/health`)).statusCode).toBe(200);
  await db.execute("DROP TABLE big");
  db.close();
});

test("a storm of compressed answers, half abandoned at random moments, leaks no compression slot", async () => {
  const pid = worker.process.pid;
  const body = JSON.stringify(select("SELECT * FROM t"));
  let abandoned = 0;
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const abort = new AbortController();
        if (i % 2 === 0) {
          setTimeout(() => abort.abort(), Math.random() * 20);
          abandoned++;
        }
        try {
          const res = await request(`${worker.url}/v2/pipeline`, {
            method: "POST",
            headers: { "accept-encoding": i % 3 === 0 ? "br" : "gzip" },
            body,
            signal: abort.signal,
          });
          await res.body.arrayBuffer();
        } catch (err) {
          if (!abort.signal.aborted) throw err;
        }
      }),
    );
  }
  expect(abandoned).toBe(36);
  // Every slot comes back: answers are compressed again, by the same process, once the
  // worker has finished what the abandoned requests had started.
  let encoding: string | undefined;
  for (let i = 0; i < 100 && encoding === undefined; i++) {
    encoding = (await raw("/v2/pipeline", "gzip", select("SELECT * FROM t"))).encoding;
    if (encoding === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  expect(encoding).toBe("gzip");
  expect(worker.process.pid).toBe(pid);
  expect(worker.process.exitCode).toBeNull();
  expect((await raw("/health", undefined)).status).toBe(200);
});
