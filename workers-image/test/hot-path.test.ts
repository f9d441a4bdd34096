/**
 * The worker's two HTTP front ends answer alike: every request is sent once as the hot path
 * takes it and once with a query string, which the hot path hands to node:http
 * (src/transport/hot-path.ts). The raw answers must be the same bytes, headers included, but
 * for the Date, batons and the statements' query_duration_ms. Then the worker's process: many
 * connections that mix both front ends, opened and dropped at random, leave it serving.
 */
import { connect } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, testKeys, type WorkerProcess } from "../../testkit/worker";

const keys = testKeys();
let worker: WorkerProcess;

beforeAll(async () => {
  worker = await startWorkerProcess({ env: { SQLD_AUTH_JWT_KEY: keys.publicPem } });
  const setup = await send("/v2/pipeline", {
    requests: [
      { type: "execute", stmt: { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)" } },
      {
        type: "execute",
        stmt: {
          sql: "INSERT INTO t SELECT value, 'name ' || value FROM generate_series(1, 3000)",
        },
      },
      { type: "close" },
    ],
  });
  expect(setup.head).toMatch(/^HTTP\/1\.1 200 /);
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

interface Raw {
  head: string;
  body: Buffer;
}

/** One request on a new connection; its answer's head and body as sent. */
function send(
  target: string,
  body: unknown,
  headers: Record<string, string> = { Authorization: `Bearer ${keys.token()}` },
): Promise<Raw> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const head = [
    `POST ${target} HTTP/1.1`,
    "Host: worker",
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect(worker.port, "127.0.0.1");
    let data = Buffer.alloc(0);
    socket.on("connect", () => socket.write(`${head}\r\n\r\n${text}`));
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headText = data.subarray(0, end).toString("latin1");
      const length = Number(/\r\nContent-Length: (\d+)/.exec(headText)?.[1]);
      if (data.length < end + 4 + length) return;
      socket.destroy();
      resolve({ head: headText, body: data.subarray(end + 4, end + 4 + length) });
    });
  });
}

/** The answer with what differs between two runs of the same request made equal. */
function comparable(raw: Raw): { head: string; body: string } {
  const gzipped = /\r\nContent-Encoding: gzip/.test(raw.head);
  const body = (gzipped ? gunzipSync(raw.body) : raw.body)
    .toString("utf8")
    .replace(/"query_duration_ms":[0-9.e-]+/g, '"query_duration_ms":0')
    // A baton is random; that one came back is the same.
    .replace(/"baton":"[^"]+"/g, '"baton":"-"');
  // The length follows the durations' digits (and a compressed body's bytes); the answer was
  // read by it, so it is the body's.
  const head = raw.head
    .replace(/\r\nDate: [^\r]*/, "\r\nDate: -")
    .replace(/\r\nContent-Length: \d+/, "\r\nContent-Length: -");
  return { head, body };
}

const select = (sql: string) => ({
  requests: [{ type: "execute", stmt: { sql } }, { type: "close" }],
});

const cases: [string, string, unknown, Record<string, string>?][] = [
  ["a point select", "/v2/pipeline", select("SELECT id, name FROM t WHERE id = 7")],
  [
    "v3, every request type",
    "/v3/pipeline",
    {
      requests: [
        { type: "execute", stmt: { sql: "SELECT ?", args: [{ type: "integer", value: "1" }] } },
        { type: "batch", batch: { steps: [{ stmt: { sql: "SELECT 2" } }] } },
        { type: "describe", sql: "SELECT name FROM t" },
        { type: "sequence", sql: "SELECT 3; SELECT 4" },
        { type: "get_autocommit" },
        { type: "store_sql", sql_id: 1, sql: "SELECT 5" },
        { type: "execute", stmt: { sql_id: 1 } },
        { type: "execute", stmt: { sql: "SELECT * FROM nowhere" } },
        { type: "close" },
      ],
    },
  ],
  [
    "a cursor",
    "/v3/cursor",
    {
      baton: null,
      batch: { steps: [{ stmt: { sql: "SELECT id FROM t LIMIT 5" } }] },
    },
  ],
  ["JSON that is not", "/v2/pipeline", "{nope"],
  ["a request of no known type", "/v2/pipeline", { requests: [{ type: "nope" }] }],
  ["no token", "/v2/pipeline", select("SELECT 1"), {}],
  ["a bad token", "/v2/pipeline", select("SELECT 1"), { Authorization: "Bearer x.y.z" }],
  ["an unknown baton", "/v2/pipeline", { baton: "nope", requests: [] }],
  [
    "a large answer, gzip",
    "/v2/pipeline",
    select("SELECT * FROM t"),
    {
      Authorization: `Bearer ${keys.token()}`,
      "Accept-Encoding": "gzip",
    },
  ],
  ["a large answer, plain", "/v2/pipeline", select("SELECT * FROM t")],
];

describe("the hot path answers as node:http does", () => {
  for (const [name, target, body, headers] of cases) {
    test(name, async () => {
      const hot = comparable(await send(target, body, headers));
      const node = comparable(await send(`${target}?via=node`, body, headers));
      expect(hot).toEqual(node);
      expect(hot.head).toMatch(/^HTTP\/1\.1 \d{3} /);
    });
  }
});

test("a request line that names a member of Object.prototype is node:http's to refuse", async () => {
  // The hot path's route table were an object: `constructor` would find a route.
  for (const line of ["constructor", "__proto__", "toString"]) {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(worker.port, "127.0.0.1");
      let text = "";
      socket.on("connect", () =>
        socket.write(`${line}\r\nHost: worker\r\nContent-Length: 0\r\n\r\n`),
      );
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  }
});

test("connections that mix both front ends and drop mid-request leave the worker serving", async () => {
  const request = (target: string) => {
    const text = JSON.stringify(select("SELECT count(*) FROM t"));
    return `POST ${target} HTTP/1.1\r\nHost: w\r\nContent-Length: ${text.length}\r\n\r\n${text}`;
  };
  const health = "GET /health HTTP/1.1\r\nHost: w\r\n\r\n";
  const auth = `Authorization: Bearer ${keys.token()}\r\n`;
  const withAuth = (r: string) => r.replace("\r\n\r\n", `\r\n${auth}\r\n`);
  const rounds = Array.from({ length: 60 }, async (_, i) => {
    const parts = [withAuth(request("/v2/pipeline")), health, withAuth(request("/v3/pipeline"))];
    const bytes = i % 3 === 0 ? parts.join("") : parts.slice(0, 1 + (i % 2)).join("");
    // Some connections leave halfway through their bytes.
    const cut = i % 4 === 1 ? Math.floor(bytes.length * ((i % 7) / 7)) : bytes.length;
    await new Promise<void>((resolve) => {
      const socket = connect(worker.port, "127.0.0.1");
      socket.on("error", () => resolve());
      socket.on("connect", () => {
        socket.write(bytes.slice(0, cut));
        setTimeout(
          () => {
            socket.destroy();
            resolve();
          },
          20 + (i % 5) * 10,
        );
      });
    });
  });
  await Promise.all(rounds);
  const after = comparable(await send("/v2/pipeline", select("SELECT count(*) FROM t")));
  expect(after.head).toMatch(/^HTTP\/1\.1 200 /);
  expect(after.body).toContain('"value":"3000"');
  expect(worker.process.exitCode).toBeNull();
});
