/**
 * How a pooled worker (see main.ts) is given its database. Two channels, one contract: wait
 * for a claim carrying the database's environment, then say where the worker listens.
 *
 * - IPC: the process driver starts the worker with a channel; the worker exits as soon as the
 *   channel closes unclaimed, so it never outlives its control plane.
 * - HTTP: the Docker driver's pooled containers cannot be given a channel, so the worker takes
 *   the claim on its own (only) address, from whoever holds DBFORGE_POOL_SECRET, and exits
 *   when nobody has asked after it for a lease (the control plane renews it while it keeps the
 *   container). Nothing else is answered until the claim: no health, no Hrana.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { POOL_CLAIM_PATH, POOL_PATH } from "../../core/worker-pool";
import type { HttpClaim } from "./env";

export interface PoolChannel {
  /** Resolves with the database's environment; the worker must not serve before. */
  claimed(): Promise<Record<string, string>>;
  /** Reports that the claimed worker listens on `port`, and lets go of the channel. */
  listening(port: number): void;
}

/** Messages between a pooled worker and the process driver. */
type PoolMessage =
  | { type: "ready" }
  | { type: "claim"; env: Record<string, string> }
  | { type: "listening"; port: number };

export function ipcChannel(): PoolChannel {
  const send = (message: PoolMessage) => process.send?.(message);
  // Watched from the start, not only once loaded: a pool that closes (or a control plane that
  // goes away) while the worker still loads or rehearses ends it then, through its exit
  // handlers, which remove what the rehearsal made (see ./rehearsal.ts).
  const orphaned = () => process.exit(0);
  if (!process.connected) orphaned();
  process.once("disconnect", orphaned);
  return {
    claimed: () =>
      new Promise((resolve) => {
        process.on("message", (message: PoolMessage) => {
          if (message?.type !== "claim") return;
          process.off("disconnect", orphaned);
          resolve(message.env);
        });
        send({ type: "ready" });
      }),
    listening(port) {
      send({ type: "listening", port });
      process.disconnect?.();
    },
  };
}

/** A claim is a few variables: anything larger is not one. */
const MAX_CLAIM_BYTES = 64 * 1024;

export function httpChannel(config: HttpClaim): PoolChannel {
  let answer: ServerResponse | undefined;
  return {
    claimed: () =>
      new Promise((resolve, reject) => {
        const secret = Buffer.from(`Bearer ${config.secret}`);
        const authorized = (req: IncomingMessage) => {
          const given = Buffer.from(req.headers.authorization ?? "");
          return given.length === secret.length && timingSafeEqual(given, secret);
        };
        let lease = setTimeout(() => process.exit(0), config.leaseMs);
        const server = createServer((req, res) => {
          // Never kept alive: once claimed, the address belongs to the database's server.
          res.shouldKeepAlive = false;
          const reply = (status: number, body: object) =>
            res
              .writeHead(status, { "content-type": "application/json", connection: "close" })
              .end(JSON.stringify(body));
          if (!authorized(req)) return reply(req.url?.startsWith(POOL_PATH) ? 401 : 404, {});
          clearTimeout(lease);
          lease = setTimeout(() => process.exit(0), config.leaseMs);
          if (req.method === "GET" && req.url === POOL_PATH) return reply(200, { state: "ready" });
          if (req.method !== "POST" || req.url !== POOL_CLAIM_PATH || answer) return reply(404, {});
          readClaim(req).then(
            (env) => {
              clearTimeout(lease);
              answer = res;
              // The port is free again at once (libuv closes the socket synchronously); the
              // claim's own connection stays open for the answer.
              server.close();
              server.closeIdleConnections();
              resolve(env);
            },
            (err: Error) => reply(400, { error: err.message }),
          );
        });
        server.once("error", reject);
        server.listen(config.listen.port, config.listen.host);
      }),
    listening(port) {
      answer
        ?.writeHead(200, { "content-type": "application/json", connection: "close" })
        .end(JSON.stringify({ port }));
      answer = undefined;
    },
  };
}

async function readClaim(req: IncomingMessage): Promise<Record<string, string>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CLAIM_BYTES) throw new Error("claim too large");
    chunks.push(chunk);
  }
  const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { env?: unknown };
  const env = body?.env;
  if (typeof env !== "object" || env === null) throw new Error("claim without env");
  const entries = Object.entries(env as Record<string, unknown>);
  if (entries.some(([, v]) => typeof v !== "string")) throw new Error("env values are strings");
  return Object.fromEntries(entries) as Record<string, string>;
}
