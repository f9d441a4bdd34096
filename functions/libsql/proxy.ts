import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { sharedThrottle } from "../lib/auth-throttle";
import {
  clientAddress,
  createFunctionApp,
  type FunctionsContext,
  type FunctionsEnv,
} from "../lib/context";
import { callWorker, resolveHello } from "../lib/database";
import { ApiError } from "../lib/errors";
import { chooseSubprotocol, HranaRelay, type RelaySocket } from "../lib/hrana-relay";
import { databaseNameFromSegment, splitProxyPath } from "../lib/names";
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

async function forward(c: FunctionsContext, name: string, rest: string): Promise<Response> {
  const incoming = new URL(c.req.url);
  const body = ["GET", "HEAD"].includes(c.req.method) ? undefined : await c.req.arrayBuffer();
  const headers = new Headers();
  for (const h of FORWARDED_HEADERS) {
    const value = c.req.header(h);
    if (value) headers.set(h, value);
  }
  return callWorker(
    c,
    name,
    async (resolved) => {
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
    },
    isRejectedToken,
  );
}

/**
 * The worker refused the token resolve minted (the database's tokens were revoked or it was
 * re-created): callWorker checks the caller again and retries with a new token.
 */
function isRejectedToken(res: Response): boolean {
  if (res.status !== 401) return false;
  void res.body?.cancel();
  return true;
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
function upgrade(c: Context<FunctionsEnv>, name: string, rest: string): Response {
  // The checks a WebSocket server makes before it answers 101 (RFC 6455 4.2.1), as ws does on
  // the Node host: workerd fails the request (500) when a worker accepts a handshake that is
  // not one, e.g. a POST with `Upgrade: websocket`, which it turns into a GET.
  if (rest !== "/") throw new ApiError("NOT_FOUND", "WebSockets are served on /db/{name}/ only");
  const key = c.req.header("sec-websocket-key") ?? "";
  if (c.req.header("sec-websocket-version") !== "13" || !/^[A-Za-z0-9+/]{22}==$/.test(key)) {
    throw new ApiError("BAD_REQUEST", "Not a valid WebSocket handshake");
  }
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
    // The hello's credentials, not the upgrade request's.
    resolve: (jwt) =>
      resolveHello({
        controlPlane: c.get("controlPlane"),
        cacheMs: c.get("config").RESOLVE_CACHE_MS,
        name,
        jwt,
        throttle: sharedThrottle({
          burst: c.get("config").AUTH_FAILURE_BURST,
          perMinute: c.get("config").AUTH_FAILURES_PER_MINUTE,
        }),
        client: clientAddress(c),
      }),
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
  // The same rule as the Node host's WebSocket relay: a bad name is refused before anything.
  const { segment, rest } = splitProxyPath(new URL(c.req.url).pathname);
  const name = databaseNameFromSegment(segment);
  if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
    if (c.req.method !== "GET") throw new ApiError("BAD_REQUEST", "A WebSocket handshake is a GET");
    // Runtimes without WebSocketPair (the Node host) take real handshakes in their own upgrade
    // listener; one that arrives here lacks `Connection: Upgrade` and is not a handshake.
    if (typeof WebSocketPair === "undefined")
      throw new ApiError("BAD_REQUEST", "A WebSocket handshake needs `Connection: Upgrade`");
    return upgrade(c, name, rest);
  }
  return forward(c, name, rest);
};

// Errors here are read by libSQL clients, which only understand JSON with a `message`.
const app = createFunctionApp({ hranaErrors: true });
app.all("/db/:name/*", handler);
app.all("/db/:name", (c) => {
  const url = new URL(c.req.url);
  databaseNameFromSegment(splitProxyPath(url.pathname).segment);
  // The path as sent: a decoded name could put any character in the Location header.
  return c.redirect(`${url.pathname}/${url.search}`, 308);
});

export default app;
