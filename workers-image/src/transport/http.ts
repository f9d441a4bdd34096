import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname } from "node:path";
import { pipeline as pipeStreams } from "node:stream/promises";
import { COMPRESS_FROM } from "../../../core/compression";
import { dumpSql } from "../engine/dump";
import { snapshotFile } from "../engine/snapshot";
import type { Version } from "../hrana/proto";
import { log } from "../log";
import {
  type Answer,
  answerHeaders,
  cursorAnswer,
  errorAnswer,
  type HranaRequest,
  PayloadTooLarge,
  pipelineAnswer,
} from "./answers";
import { compressor, encodingFor } from "./compression";
import type { WorkerContext } from "./context";

const HRANA_HELLO = "Hello, this is HTTP API v2 (Hrana over HTTP)";

/**
 * The worker's HTTP API, route for route like sqld's (libsql-server/src/http/user/mod.rs):
 * /health, /version, the Hrana version probes, pipelines and cursors. WebSocket upgrades are
 * handled separately (./websocket.ts).
 */
export async function handleHttp(
  ctx: WorkerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
  const method = req.method ?? "GET";
  try {
    if (method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "*",
        "Access-Control-Allow-Headers": "*",
        "Access-Control-Max-Age": "86400",
      });
      return void res.end();
    }
    const route = ROUTES[path];
    if (!route) return send(res, { status: 404, contentType: undefined, body: "" });
    if (route.method !== method) {
      return send(res, { status: 405, contentType: "text/plain", body: "Method Not Allowed" });
    }
    await route.handle(ctx, req, res);
  } catch (err) {
    send(res, errorAnswer(err));
  }
}

interface Route {
  method: "GET" | "POST";
  /** Health checks and probes: not use, so they must not keep an idle database awake. */
  passive?: boolean;
  handle(ctx: WorkerContext, req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}

const probe: Route = {
  method: "GET",
  passive: true,
  handle: (_c, _q, res) => send(res, { status: 200, contentType: "text/plain", body: HRANA_HELLO }),
};

const pipeline = (version: Version): Route => ({
  method: "POST",
  handle: async (ctx, req, res) =>
    send(res, await pipelineAnswer(ctx, version, await hranaRequest(ctx, req))),
});

const cursor: Route = {
  method: "POST",
  handle: async (ctx, req, res) => send(res, await cursorAnswer(ctx, await hranaRequest(ctx, req))),
};

/**
 * sqld's GET /dump: the database as SQL, streamed (see ../engine/dump.ts). Any valid token: a
 * read-only one can read every row anyway.
 */
const dump: Route = {
  method: "GET",
  async handle(ctx, req, res) {
    ctx.authenticator.fromHeader(req.headers.authorization);
    const chunks = dumpSql(ctx.db.options.path);
    let first = chunks.next();
    // A dump of more than its header is worth compressing (the first piece is the header).
    const encoding = first.done
      ? undefined
      : encodingFor(req.headers["accept-encoding"], COMPRESS_FROM);
    const packer = encoding && compressor(encoding);
    res.writeHead(200, {
      "Access-Control-Allow-Origin": "*",
      "Content-Type": "text/plain; charset=utf-8",
      ...(packer ? { "Content-Encoding": encoding, Vary: "Accept-Encoding" } : {}),
    });
    const out = packer || res;
    if (out !== res) {
      out.pipe(res);
      // A client gone mid-dump ends the compressor too (and its error is not a crash).
      out.on("error", () => res.destroy());
      res.on("close", () => out.destroy());
    }
    try {
      // The only wait is for the client to drain: a client gone shows there, as "closed".
      while (!first.done) {
        const waited = out.write(first.value) ? "drained" : await drained(out, res, DUMP_STALL_MS);
        if (waited === "closed") break;
        if (waited === "stalled") {
          log("warn", "dump stopped: the client took nothing for too long", {
            stallMs: DUMP_STALL_MS,
          });
          res.destroy();
          return;
        }
        first = chunks.next();
      }
    } catch (err) {
      // Half a dump must not look like a whole one: the answer is cut off (no final chunk), so
      // the client, and the functions' export that passes it on, see a failed transfer.
      log("error", "dump failed midway", { error: String(err) });
      res.destroy();
      return;
    } finally {
      chunks.return(undefined);
    }
    if (!out.destroyed) out.end();
  },
};

/**
 * How long a dump waits for its client to take more before it gives up: its read transaction
 * holds back checkpoints (the WAL grows) for as long as it stays open.
 */
export const DUMP_STALL_MS = 60_000;

/** Waits until `out` drains, `res` closes, or `stallMs` pass without either. */
export function drained(
  out: NodeJS.WritableStream,
  res: ServerResponse,
  stallMs: number,
): Promise<"drained" | "closed" | "stalled"> {
  if (res.destroyed) return Promise.resolve("closed");
  return new Promise((resolve) => {
    const done = (how: "drained" | "closed" | "stalled") => {
      clearTimeout(timer);
      out.removeListener("drain", onDrain);
      res.removeListener("close", onClose);
      resolve(how);
    };
    const onDrain = () => done("drained");
    const onClose = () => done("closed");
    const timer = setTimeout(() => done("stalled"), stallMs);
    out.once("drain", onDrain);
    res.once("close", onClose);
  });
}

let snapshotsDone: Promise<void> = Promise.resolve();

/** A consistent copy of the database file (DB-Forge's own route; see ../engine/snapshot.ts). */
const snapshot: Route = {
  method: "GET",
  async handle(ctx, req, res) {
    ctx.authenticator.fromHeader(req.headers.authorization);
    // One copy at a time: each takes the database's size on disk until it is sent.
    const previous = snapshotsDone;
    let done = () => {};
    snapshotsDone = new Promise<void>((resolve) => {
      done = resolve;
    });
    await previous;
    let copy: ReturnType<typeof snapshotFile>;
    try {
      copy = snapshotFile(ctx.db.options.path, dirname(ctx.db.options.path));
    } catch (err) {
      done();
      throw err;
    }
    try {
      res.writeHead(200, {
        "Access-Control-Allow-Origin": "*",
        "Content-Type": "application/vnd.sqlite3",
        "Content-Length": copy.size,
      });
      await pipeStreams(createReadStream(copy.path), res);
    } finally {
      copy.remove();
      done();
    }
  },
};

const ROUTES: Record<string, Route> = {
  // sqld answers /health and /version without a content type.
  "/health": {
    method: "GET",
    passive: true,
    handle: (ctx, _q, res) =>
      send(res, { status: ctx.isHealthy() ? 200 : 503, contentType: undefined, body: "" }),
  },
  "/version": {
    method: "GET",
    passive: true,
    handle: (ctx, _q, res) => send(res, { status: 200, contentType: undefined, body: ctx.version }),
  },
  "/v2": probe,
  "/v3": probe,
  "/v2/pipeline": pipeline(2),
  "/v3/pipeline": pipeline(3),
  "/v3/cursor": cursor,
  "/dump": dump,
  "/dbforge/v1/snapshot": snapshot,
};

/** Whether a request target is a probe (/health, /version, /v2, /v3) rather than use. */
export function isPassiveRequest(target: string | undefined): boolean {
  return ROUTES[target ?? ""]?.passive === true;
}

/** Writes a whole answer (see ./answers.ts). */
function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) return void res.end();
  // The rest of the body is never read, so the connection cannot be reused.
  if (answer.close) res.setHeader("Connection", "close");
  res.writeHead(answer.status, answerHeaders(answer) as string[]);
  res.end(answer.body);
}

/** A Hrana POST: its credentials checked, then its body read up to the limit. */
async function hranaRequest(ctx: WorkerContext, req: IncomingMessage): Promise<HranaRequest> {
  const access = ctx.authenticator.fromHeader(req.headers.authorization);
  return {
    access,
    acceptEncoding: req.headers["accept-encoding"],
    body: await readBody(req, ctx.maxBodyBytes),
  };
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) return Promise.reject(new PayloadTooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners("data");
        req.pause();
        reject(new PayloadTooLarge(maxBytes));
      } else chunks.push(chunk);
    });
    req.once("error", reject);
    req.once("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
  });
}
