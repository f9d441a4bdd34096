/**
 * A short Hrana-over-WebSocket session with hostile messages (ws client): hellos with any
 * credentials, requests before and after them, garbage, binary and oversized frames. The
 * server may refuse or close at any point; it may not answer the handshake with a 5xx.
 */
import { WebSocket } from "ws";
import { type Credentials, deepJson, nameSegment, SAFE_SQL } from "./inputs";
import type { Rng } from "./prng";
import { hranaStatement } from "./requests";

export interface WsOutcome {
  /** The handshake's status when the server refused it; 101 when it upgraded. */
  status?: number;
  body: string;
  description: string;
  /** A message the server sent reporting an INTERNAL_ERROR (a 500 in Hrana's words). */
  internalError?: string;
}

function message(rng: Rng, creds: Credentials, id: number): string | Buffer {
  const jwt = rng.pick<string | null>([
    creds.admin,
    rng.pick(creds.database),
    creds.foreign,
    null,
    "garbage",
    "",
  ]);
  return rng.weighted<() => string | Buffer>([
    [3, () => JSON.stringify({ type: "hello", jwt })],
    [
      1,
      () =>
        JSON.stringify({
          type: "request",
          request_id: id,
          request: { type: "open_stream", stream_id: rng.int(0, 2) },
        }),
    ],
    [
      3,
      () =>
        JSON.stringify({
          type: "request",
          request_id: id,
          request: { type: "execute", stream_id: rng.int(0, 2), stmt: hranaStatement(rng) },
        }),
    ],
    [
      1,
      () =>
        JSON.stringify({
          type: "request",
          request_id: id,
          request: { type: "sequence", stream_id: 1, sql: rng.pick(SAFE_SQL) },
        }),
    ],
    [
      1,
      () => rng.pick(['{"type":"hello"', '{"type":"hello","jwt":1}', "hello", "{}", "[]", "null"]),
    ],
    [0.5, () => deepJson(rng, rng.pick([100, 10_000]))],
    [0.5, () => rng.bytes(rng.int(1, 100))],
    [0.2, () => JSON.stringify({ type: "hello", jwt: "x".repeat(200_000) })],
  ])();
}

/** Runs one session against `base` (http URL); resolves within about `timeoutMs`. */
export function wsSession(
  rng: Rng,
  base: string,
  databases: string[],
  creds: Credentials,
  timeoutMs: number,
): Promise<WsOutcome> {
  const path = `/db/${nameSegment(rng, databases, 200)}/`;
  const protocols = rng.pick([["hrana3"], ["hrana2"], ["hrana1"], [], ["hrana3", "hrana2"]]);
  const messages = Array.from({ length: rng.int(0, 6) }, (_, i) => message(rng, creds, i));
  const description = `ws ${path} protocols=${protocols.join(",")} messages=${messages
    .map((m) => (typeof m === "string" ? m.slice(0, 60) : `<binary ${m.length}>`))
    .join(" | ")}`;
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${base.replace(/^http/, "ws")}${path}`, protocols);
    } catch {
      return resolve({ body: "", description }); // the client refused the URL itself
    }
    let settled = false;
    let internalError: string | undefined;
    const done = (outcome: Omit<WsOutcome, "description">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      resolve({ ...outcome, description, ...(internalError ? { internalError } : {}) });
    };
    const timer = setTimeout(() => done({ status: 101, body: "" }), timeoutMs);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
      res.on("error", () => done({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", () => done({ body: "" }));
    ws.on("close", () => done({ status: 101, body: "" }));
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.includes('"INTERNAL_ERROR"')) internalError = text.slice(0, 300);
    });
    ws.on("open", () => {
      for (const m of messages) if (ws.readyState === WebSocket.OPEN) ws.send(m);
    });
  });
}
