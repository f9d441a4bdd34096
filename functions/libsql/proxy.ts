import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createFunctionApp, type FunctionsContext, type FunctionsEnv } from "../lib/context";
import { callWorker, resolveDatabase } from "../lib/database";
import { ApiError } from "../lib/errors";
import { chooseSubprotocol, HranaRelay, type RelaySocket } from "../lib/hrana-relay";
import { DatabaseNameParam, problems } from "../lib/schemas";

/**
 * Direct libSQL access: /db/{name}/ speaks Hrana like the database's worker, so
 * `createClient({ url: "http://host/db/{name}/", authToken })` works. Requests are forwarded
 * with the caller's credentials swapped for a worker token of the same access.
 */
export const route = createRoute({
  method: "post",
  path: "/db/{name}/v2/pipeline",
  summary: "Hrana over HTTP (libSQL protocol) for @libsql/client",
  description:
    "Also /db/{name}/v3/pipeline, /db/{name}/v3/cursor, the /v2 and /v3 probes, and WebSocket (subprotocols hrana3, hrana2) on GET /db/{name}/. Authenticate with the admin token or a token of this database.",
  tags: ["libSQL"],
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({ name: DatabaseNameParam }),
    body: {
      required: true,
      content: { "application/json": { schema: z.object({}).passthrough() } },
    },
  },
  responses: {
    200: {
      description: "Hrana pipeline response",
      content: { "application/json": { schema: z.object({}).passthrough() } },
    },
    ...problems(400, 401, 403, 404, 503),
  },
});

const FORWARDED_HEADERS = ["content-type", "accept", "x-turso-encryption-key"];

async function forward(c: FunctionsContext, name: string): Promise<Response> {
  const incoming = new URL(c.req.url);
  const rest = incoming.pathname.slice(`/db/${name}`.length) || "/";
  const body = ["GET", "HEAD"].includes(c.req.method) ? undefined : await c.req.arrayBuffer();
  const headers = new Headers();
  for (const h of FORWARDED_HEADERS) {
    const value = c.req.header(h);
    if (value) headers.set(h, value);
  }
  return callWorker(c, name, async (resolved) => {
    headers.set("authorization", `Bearer ${resolved.token}`);
    const res = await fetch(`${resolved.url}${rest}${incoming.search}`, {
      method: c.req.method,
      headers,
      body,
    });
    const out = new Headers();
    for (const h of ["content-type", "content-length"]) {
      const value = res.headers.get(h);
      if (value) out.set(h, value);
    }
    return new Response(res.body, { status: res.status, headers: out });
  });
}

/** Answers a close frame (1005 "no status" cannot be sent back, so it becomes 1000). */
function closeQuietly(ws: WorkersWebSocket, code: number): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code);
  } catch {
    // already closed
  }
}

/** Hrana over WebSocket on Workers runtimes (the Node host relays WebSockets itself). */
function upgrade(c: Context<FunctionsEnv>, name: string): Response {
  const protocol = chooseSubprotocol(c.req.header("sec-websocket-protocol"));
  if (protocol === undefined)
    throw new ApiError(
      "BAD_REQUEST",
      "Only the hrana3, hrana2 and hrana1 subprotocols are supported",
    );
  const pair = new WebSocketPair();
  const [clientEnd, serverEnd] = [pair[0], pair[1]];
  serverEnd.accept();
  const relay = new HranaRelay({
    client: {
      send: (t) => serverEnd.send(t),
      close: (code, reason) => serverEnd.close(code, reason),
    },
    protocol: protocol ?? "hrana1",
    resolve: (jwt) => {
      const headers = new Headers(c.req.raw.headers);
      if (jwt) headers.set("authorization", `Bearer ${jwt}`);
      else headers.delete("authorization");
      // Resolve with the hello's credentials, not the upgrade request's.
      c.req.raw = new Request(c.req.raw, { headers });
      return resolveDatabase(c, name);
    },
    connect: async (url, subprotocol, events): Promise<RelaySocket> => {
      const res = await fetch(url, {
        headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": subprotocol },
      });
      const ws = res.webSocket;
      if (!ws) throw new Error(`worker refused the WebSocket (HTTP ${res.status})`);
      ws.accept();
      ws.addEventListener("message", (e: MessageEvent) => events.message(String(e.data)));
      ws.addEventListener("close", (e: Event) => {
        const { code, reason } = e as WorkersCloseEvent;
        closeQuietly(ws, code);
        events.close(code, reason);
      });
      return { send: (t) => ws.send(t), close: (code, reason) => ws.close(code, reason) };
    },
  });
  serverEnd.addEventListener("message", (e: MessageEvent) => relay.clientMessage(String(e.data)));
  serverEnd.addEventListener("close", (e: Event) => {
    relay.clientClosed();
    // Complete the closing handshake, or the runtime keeps the request open.
    closeQuietly(serverEnd, (e as WorkersCloseEvent).code);
  });
  const headers: Record<string, string> = {};
  if (protocol) headers["Sec-WebSocket-Protocol"] = protocol;
  const init: WorkersUpgradeInit = { status: 101, webSocket: clientEnd, headers };
  return new Response(null, init as unknown as ResponseInit);
}

/** Every method and path under /db/{name}/ (the OpenAPI `route` above documents the main one). */
export const handler = (c: FunctionsContext): Promise<Response> | Response => {
  const name = c.req.param("name") ?? "";
  if (c.req.header("upgrade")?.toLowerCase() === "websocket") return upgrade(c, name);
  return forward(c, name);
};

// Errors here are read by libSQL clients, which only understand JSON with a `message`.
const app = createFunctionApp({ hranaErrors: true });
app.all("/db/:name/*", handler);
app.all("/db/:name", (c) => c.redirect(`/db/${c.req.param("name")}/`, 308));

export default app;
