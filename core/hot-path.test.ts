/**
 * The hot path on real sockets, with a stand-in user (routes like the worker's, "Bearer bad"
 * refused, the request's body echoed) and short timeouts: framing (split, pipelined, large),
 * hand-off to node:http of everything outside its subset or declined by admit, streamed
 * answers, timeouts, half-close, backpressure and shutdown. The real worker's answers, byte for
 * byte against node:http's, are in workers-image/test/hot-path.test.ts; the functions host's
 * against its full path in functions/host/proxy-lane.test.ts.
 */
import {
  Agent,
  createServer as createHttpServer,
  type Server as HttpServer,
  request,
} from "node:http";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type HotAnswer, HotPath, type HotPathOptions } from "./hot-path";

type Route = 2 | 3 | "cursor";
interface Admitted {
  route: Route;
  access: string;
}
type Options = HotPathOptions<Route, Admitted>;

const ROUTES = new Map<string, Route>([
  ["POST /v2/pipeline HTTP/1.1", 2],
  ["POST /v3/pipeline HTTP/1.1", 3],
  ["POST /v3/cursor HTTP/1.1", "cursor"],
]);

const text = (body: string | Readable, headers: (string | number)[] = []): HotAnswer => ({
  status: 200,
  headers: ["Content-Type", "text/plain", ...headers],
  body,
});

interface Harness {
  port: number;
  path: HotPath<Route, Admitted>;
  /** Requests begun and ended, as the worker's idle accounting sees them. */
  counts: { begun: number; ended: number; fallback: number; answered: number };
  /** The server's side of the connections (to feed it bytes directly). */
  sockets: Set<Socket>;
  stop(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.stop();
});

async function harness(
  overrides: Partial<Options> = {},
  answer?: (admitted: Admitted, body: Buffer) => Promise<HotAnswer>,
): Promise<Harness> {
  const counts = { begun: 0, ended: 0, fallback: 0, answered: 0 };
  const fallback: HttpServer = createHttpServer(
    { headersTimeout: 400, requestTimeout: 800, connectionsCheckingInterval: 200 },
    (req, res) => {
      counts.fallback++;
      req.resume();
      req.on("end", () => res.end(`node:${req.method} ${req.url}`));
    },
  );
  const path = new HotPath<Route, Admitted>({
    route: (line) => ROUTES.get(line),
    reads: new Set(["authorization"]),
    admit: ({ route, headers }) => {
      const authorization = headers.get("authorization");
      if (authorization === "Bearer node") return undefined; // declined: node:http's
      if (authorization === "Bearer bad") {
        const body = JSON.stringify({ code: "AUTH_JWT_INVALID" });
        return { refusal: { status: 401, headers: ["Content-Type", "application/json"], body } };
      }
      return { admitted: { route, access: authorization === "Bearer ro" ? "read-only" : "full" } };
    },
    answer:
      answer ??
      (async ({ route, access }, body) => {
        counts.answered++;
        return text(`hot:${route}:${access}:${body.toString()}`);
      }),
    fallback,
    maxBodyBytes: 1 << 20,
    headersTimeoutMs: 400,
    requestTimeoutMs: 800,
    keepAliveTimeoutMs: 600,
    onRequest: () => {
      counts.begun++;
      return () => counts.ended++;
    },
    ...overrides,
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    path.accept(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const h: Harness = {
    port: (server.address() as AddressInfo).port,
    path,
    counts,
    sockets,
    async stop() {
      for (const s of sockets) s.destroy();
      fallback.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  open.push(h);
  return h;
}

const post = (body: string, extra = "", target = "/v2/pipeline") =>
  `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

interface Exchange {
  /** Everything the server sent. */
  text: string;
  /** The server closed the connection (or reset it). */
  closed: boolean;
  bodies: string[];
}

/** Writes `chunks` (`pauseMs` apart), then reads until `responses` answers, a close or `waitMs`. */
function exchange(
  port: number,
  chunks: (string | Buffer)[],
  { pauseMs = 0, waitMs = 1500, responses = Number.POSITIVE_INFINITY, end = false } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, bodies: bodiesOf(text) });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (pauseMs) await sleep(pauseMs);
      }
      if (end) socket.end();
    });
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (bodiesOf(text).length >= responses) finish(false);
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
  });
}

function bodiesOf(text: string): string[] {
  const bodies: string[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return bodies;
    const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
    if (rest.length < end + 4 + length) return bodies;
    bodies.push(rest.slice(end + 4, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
}

describe("hot path: framing", () => {
  it("answers a request however its bytes are split, and pipelined requests in order", async () => {
    const h = await harness();
    const one = post('{"n":1}', "Authorization: Bearer ro\r\n");
    const bytes = await exchange(h.port, [...one], { responses: 1 });
    expect(bytes.bodies).toEqual(['hot:2:read-only:{"n":1}']);
    expect(bytes.text).toMatch(
      /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=0\r\nContent-Length: \d+\r\n\r\n/,
    );
    const many = Array.from({ length: 50 }, (_, i) =>
      post(`{"n":${i}}`, "", i % 2 ? "/v3/pipeline" : "/v3/cursor"),
    );
    // All in one write, and again cut at odd places.
    const joined = many.join("");
    const cuts = [joined.slice(0, 7), joined.slice(7, 1001), joined.slice(1001)];
    for (const chunks of [[joined], cuts]) {
      const got = await exchange(h.port, chunks, { responses: 50 });
      expect(got.bodies).toEqual(many.map((_, i) => `hot:${i % 2 ? 3 : "cursor"}:full:{"n":${i}}`));
    }
    expect(h.counts.begun).toBe(101);
    expect(h.counts.ended).toBe(101);
  });

  it("refuses bad credentials before it keeps a body, and frames what follows", async () => {
    const h = await harness();
    const big = "x".repeat(900_000);
    const refused = post(big, "Authorization: Bearer bad\r\n");
    // In pieces, the next request's start in the refused body's last piece.
    const bytes = refused + post('"next"');
    const cuts = [
      bytes.slice(0, 100),
      bytes.slice(100, 500_000),
      bytes.slice(500_000, -20),
      bytes.slice(-20),
    ];
    const got = await exchange(h.port, cuts, { responses: 2 });
    expect(got.text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(JSON.parse(got.bodies[0] ?? "")).toMatchObject({ code: "AUTH_JWT_INVALID" });
    expect(got.bodies[1]).toBe('hot:2:full:"next"');
    expect(h.counts.answered).toBe(1);
  });

  it("frames a head that arrives a byte at a time, its end split every way", async () => {
    const h = await harness();
    const client = connect(h.port, "127.0.0.1");
    let text = "";
    client.on("data", (d: Buffer) => {
      text += d.toString("latin1");
    });
    while (h.sockets.size === 0) await sleep(5);
    const [server] = [...h.sockets] as [Socket];
    // ~15 KiB of headers, then two requests; every byte its own piece, fed to the server's
    // socket as if read from the network.
    const padding = `X-Pad: ${"p".repeat(15_000)}\r\n`;
    const bytes = Buffer.from(post('"a"', padding) + post('"b"'));
    for (let i = 0; i < bytes.length; i++) server.emit("data", bytes.subarray(i, i + 1));
    while (bodiesOf(text).length < 2) await sleep(5);
    expect(bodiesOf(text)).toEqual(['hot:2:full:"a"', 'hot:2:full:"b"']);
    client.destroy();
  });

  it("takes a request without Content-Length as one without a body, as llhttp", async () => {
    const h = await harness();
    const bare = "POST /v2/pipeline HTTP/1.1\r\nHost: x\r\n\r\n";
    const got = await exchange(h.port, [bare + post('"next"')], { responses: 2 });
    expect(got.bodies).toEqual(["hot:2:full:", 'hot:2:full:"next"']);
  });

  it("reads a body of many chunks, up to the body limit", async () => {
    const h = await harness();
    const big = "x".repeat(700_000);
    const got = await exchange(h.port, [post(big)], { responses: 1 });
    expect(got.bodies[0]?.length).toBe("hot:2:full:".length + big.length);
  });
});

describe("hot path: what it does not take goes to node:http, bytes included", () => {
  const cases: [string, string][] = [
    ["a GET", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a query string", post("{}", "", "/v2/pipeline?x=1")],
    ["HTTP/1.0", post("{}").replace("HTTP/1.1", "HTTP/1.0")],
    ["no Host", "POST /v2/pipeline HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"],
    ["two Hosts", post("{}", "Host: y\r\n")],
    ["Connection: close", post("{}", "Connection: close\r\n")],
    ["Expect", post("{}", "Expect: 100-continue\r\n")],
    ["an upgrade", post("{}", "Upgrade: websocket\r\nConnection: Upgrade\r\n")],
    ["two Authorizations", post("{}", "Authorization: a\r\nAuthorization: b\r\n")],
    ["a head admit declines", post("{}", "Authorization: Bearer node\r\n")],
    ["a body over the limit", post("x".repeat((1 << 20) + 1))],
  ];
  for (const [name, request] of cases) {
    it(name, async () => {
      const h = await harness();
      const got = await exchange(h.port, [request], { responses: 1 });
      expect(got.text).toMatch(/^HTTP\/1\.1 /);
      expect(got.bodies[0] ?? "").not.toMatch(/^hot:/);
      expect(h.counts.begun).toBe(0);
    });
  }

  // Inputs whose framing parsers have disagreed on (request smuggling): node:http refuses
  // them, and so they must never be framed by the hot path.
  const refused: [string, string][] = [
    ["chunked and Content-Length", post("0\r\n\r\n", "Transfer-Encoding: chunked\r\n")],
    ["two Content-Lengths", post("{}", "Content-Length: 2\r\n")],
    [
      "a Content-Length with a sign",
      "POST /v2/pipeline HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}",
    ],
    ["a folded header", post("{}", "X-A: 1\r\n  folded\r\n")],
    ["a bare LF", "POST /v2/pipeline HTTP/1.1\nHost: x\r\nContent-Length: 2\r\n\r\n{}"],
    ["a space before the colon", post("{}", "Content-Length : 2\r\n")],
    ["a NUL in a value", post("{}", "X-A: a\0b\r\n")],
  ];
  for (const [name, request] of refused) {
    it(`${name}: node:http's 400`, async () => {
      const h = await harness();
      const got = await exchange(h.port, [request], { responses: 1 });
      expect(got.text).toMatch(/^HTTP\/1\.1 400 /);
      expect(h.counts.begun + h.counts.fallback).toBe(0);
    });
  }

  it("node:http keeps its own timeouts on the connections it is handed", async () => {
    const h = await harness();
    // Node starts them on 'listening', which a server that only gets connections never has.
    // The head is whole (so handed over), the body never comes: node:http's request timeout.
    const request = "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    const slow = await exchange(h.port, [request], { waitMs: 3000 });
    expect(slow.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.counts.begun).toBe(0);
  });

  it("a connection handed over mid-way keeps its order", async () => {
    const h = await harness();
    const got = await exchange(
      h.port,
      [`${post('"a"')}GET /x HTTP/1.1\r\nHost: x\r\n\r\n${post('"b"')}`],
      { responses: 3 },
    );
    expect(got.bodies).toEqual(['hot:2:full:"a"', "node:GET /x", "node:POST /v2/pipeline"]);
  });
});

/** Sends `count` pipelined POSTs on one kept-alive node:http client connection; their answers. */
async function viaNodeClient(port: number, count: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const answers: {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      answers.push(
        await new Promise((resolve, reject) => {
          const req = request({
            port,
            host: "127.0.0.1",
            path: "/v2/pipeline",
            method: "POST",
            agent,
          });
          req.on("response", (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => {
              body += d;
            });
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
            );
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end(`${i}`);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return answers;
}

describe("hot path: streamed answers", () => {
  it("a stream of known length as it is, one of unknown length chunked, the connection kept", async () => {
    let accepted = 0;
    const h = await harness({}, async (_admitted, body) => {
      const n = Number(body.toString());
      const pieces = ["a", "", "bc", "d".repeat(100_000)];
      const length = pieces.join("").length;
      // Odd requests give their length; empty pieces must not end a chunked body.
      return n % 2
        ? text(Readable.from(pieces), ["Content-Length", length])
        : text(Readable.from(pieces));
    });
    h.path.options.fallback.on("connection", () => accepted++);
    const answers = await viaNodeClient(h.port, 4);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(`abc${"d".repeat(100_000)}`);
      if (i % 2) expect(answer.headers["content-length"]).toBe("100003");
      else expect(answer.headers["transfer-encoding"]).toBe("chunked");
    }
    expect(h.sockets.size).toBeLessThanOrEqual(1);
    expect(accepted).toBe(0);
  });

  it("a stream that fails mid-way ends its connection; the next connection is served", async () => {
    let calls = 0;
    const h = await harness({}, async () => {
      calls++;
      if (calls > 1) return text("fine");
      const body = new PassThrough();
      body.write("part");
      setTimeout(() => body.destroy(new Error("the source broke")), 50);
      return text(body);
    });
    const broken = await exchange(h.port, [post("{}")], { waitMs: 2000 });
    expect(broken.closed).toBe(true);
    expect(broken.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(broken.text).toMatch(/Transfer-Encoding: chunked\r\n\r\n4\r\npart\r\n$/);
    const next = await exchange(h.port, [post("{}")], { responses: 1 });
    expect(next.bodies).toEqual(["fine"]);
  });

  it("a stream whose client goes away while it waits is destroyed at once", async () => {
    const bodies: PassThrough[] = [];
    const h = await harness({}, async () => {
      const body = new PassThrough();
      body.write("first");
      bodies.push(body); // and nothing more: an event stream with no event
      return text(body);
    });
    for (let round = 0; round < 3; round++) {
      const socket = connect(h.port, "127.0.0.1");
      socket.write(post("{}"));
      await new Promise((resolve) => socket.once("data", resolve));
      socket.destroy();
    }
    const deadline = Date.now() + 2000;
    while (bodies.some((b) => !b.destroyed) && Date.now() < deadline) await sleep(10);
    expect(bodies).toHaveLength(3);
    expect(bodies.map((b) => b.destroyed)).toEqual([true, true, true]);
    expect(h.sockets.size).toBe(0);
  });

  it("a stream is read at the client's pace", async () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, "z");
    const total = 400; // 25 MiB, far beyond the sockets' buffers
    const h = await harness({}, async () =>
      text(
        Readable.from(
          (function* () {
            for (let i = 0; i < total; i++) {
              produced++;
              yield chunk;
            }
          })(),
        ),
      ),
    );
    const socket = connect(h.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.pause();
    socket.write(post("{}"));
    await sleep(1000);
    expect(produced).toBeLessThan(total / 4);
    let received = 0;
    const done = new Promise<void>((resolve) => {
      socket.on("data", (d: Buffer) => {
        received += d.length;
        if (d.subarray(-5).toString() === "0\r\n\r\n") resolve();
      });
    });
    socket.resume();
    await done;
    socket.destroy();
    expect(produced).toBe(total);
    expect(received).toBeGreaterThan(total * chunk.length);
  });
});

describe("hot path: time and ends", () => {
  it("408 for a head or a body that does not arrive in time, as node:http", async () => {
    const h = await harness();
    const head = post("{}").slice(0, 20);
    const slowHead = await exchange(h.port, [head], { waitMs: 3000 });
    expect(slowHead.text).toBe("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
    expect(slowHead.closed).toBe(true);
    // The head in time, the body trickling past the request timeout.
    const request = post('{"long":"body"}');
    const trickle = [...request.slice(-12)].map(String);
    const slowBody = await exchange(h.port, [request.slice(0, -12), ...trickle], {
      pauseMs: 150,
      waitMs: 4000,
    });
    expect(slowBody.text).toMatch(/408 Request Timeout/);
    // A silent connection too.
    const silent = await exchange(h.port, [], { waitMs: 3000 });
    expect(silent.text).toMatch(/408 Request Timeout/);
    expect(h.counts.begun).toBe(1);
    expect(h.counts.ended).toBe(1);
  });

  it("an idle connection closes after the keep-alive timeout, not before", async () => {
    const h = await harness();
    const started = Date.now();
    const got = await exchange(h.port, [post("{}")], { waitMs: 4000 });
    expect(got.bodies).toHaveLength(1);
    expect(got.closed).toBe(true);
    expect(got.text).not.toMatch(/408/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("a client that ends its side gets its answers, then the end; a cut request gets 400", async () => {
    const h = await harness();
    const whole = await exchange(h.port, [post('"a"') + post('"b"')], { end: true });
    expect(whole.bodies).toEqual(['hot:2:full:"a"', 'hot:2:full:"b"']);
    expect(whole.closed).toBe(true);
    const cut = await exchange(h.port, [post('{"a":1}').slice(0, -3)], { end: true });
    expect(cut.text).toBe("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });

  it("stops reading from a client that does not read its answers", async () => {
    const h = await harness({}, async () => text("y".repeat(64 * 1024)));
    const socket = connect(h.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.pause();
    const request = post("{}");
    const total = 2000;
    socket.write(request.repeat(total));
    await sleep(1000);
    // Answers of 64 KiB fill the socket's buffers after a few: the rest is not even read.
    expect(h.counts.begun).toBeLessThan(total / 4);
    let received = 0;
    socket.on("data", (d: Buffer) => {
      received += d.length;
    });
    socket.resume();
    const deadline = Date.now() + 20_000;
    while (h.counts.ended < total && Date.now() < deadline) await sleep(50);
    expect(h.counts.ended).toBe(total);
    socket.destroy();
    expect(received).toBeGreaterThan(0);
  });

  it("on close: idle connections end at once, a busy one after its answer, which says so", async () => {
    let release = () => {};
    const h = await harness({}, async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return text("late");
    });
    const idle = connect(h.port, "127.0.0.1");
    const idleClosed = new Promise((resolve) => idle.once("close", resolve));
    const busy = exchange(h.port, [post("{}")], { waitMs: 3000 });
    while (h.counts.begun < 1) await sleep(10);
    h.path.close();
    await idleClosed;
    release();
    const got = await busy;
    expect(got.bodies).toEqual(["late"]);
    expect(got.text).toMatch(/\r\nConnection: close\r\n/);
    expect(got.text).not.toMatch(/Keep-Alive/);
    expect(got.closed).toBe(true);
  });
});
