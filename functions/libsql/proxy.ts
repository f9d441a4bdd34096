import { createRoute, z } from "@hono/zod-openapi";
import { readBody } from "../../core/app";
import { ApiError } from "../../core/errors";
import { databaseNameFromSegment, splitProxyPath } from "../../core/names";
import { DatabaseNameParam, problems } from "../../core/openapi";
import { createFunctionApp, type FunctionsContext } from "../lib/context";
import { callerOf, callWorker } from "../lib/database";
import { FORWARDED_REQUEST_HEADERS } from "../lib/hrana/transport";
import { upgradeWorkers } from "../lib/websocket/workers";
import { manifestPath } from "../route-table";

/**
 * Direct libSQL access: /db/{name}/ speaks Hrana like the database's worker, so
 * `createClient({ url: "http://host/db/{name}/", authToken })` works. Requests are forwarded
 * with the caller's credentials swapped for a worker token of the same access.
 */
export const route = createRoute({
  method: "post",
  // The main request of the libSQL protocol, under the manifest's /db/{name}/*.
  path: `${manifestPath("libsql/proxy").replace("/*", "")}/v2/pipeline`,
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

async function forward(c: FunctionsContext, name: string, rest: string): Promise<Response> {
  const incoming = new URL(c.req.url);
  const body = ["GET", "HEAD"].includes(c.req.method) ? undefined : await readBody(c);
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const value = c.req.header(h);
    if (value) headers[h] = value;
  }
  const caller = callerOf(c);
  return callWorker(
    caller,
    name,
    async (resolved) => {
      headers.authorization = `Bearer ${resolved.token}`;
      // Passed on untouched (the transport keeps only the headers that describe the body):
      // wrapping it again would turn a buffered answer into a stream.
      return caller.transport.response(`${resolved.url}${rest}${incoming.search}`, {
        method: c.req.method,
        headers,
        body,
      });
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

/** Every method and path under /db/{name}/ (the OpenAPI `route` above documents the main one). */
export const handler = (c: FunctionsContext): Promise<Response> | Response => {
  // The same rule as the Node host's WebSocket relay: a bad name is refused before anything.
  const { segment, rest } = splitProxyPath(new URL(c.req.url).pathname);
  const name = databaseNameFromSegment(segment);
  if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
    // Runtimes without WebSocketPair (the Node host) take real handshakes in their own upgrade
    // listener; one that arrives here lacks `Connection: Upgrade` and is not a handshake.
    if (typeof WebSocketPair === "undefined")
      throw new ApiError("BAD_REQUEST", "A WebSocket handshake needs `Connection: Upgrade`");
    return upgradeWorkers(c, name, rest);
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
