/**
 * The Node host's fast lane for the libSQL proxy's main requests, `POST /db/{name}/v2|v3/
 * pipeline` and `/v3/cursor` (what @libsql/client sends for every statement and batch):
 * answered straight from node:http's IncomingMessage and ServerResponse, without the web
 * Request and Response, the route's Hono app and its middleware. That machinery is most of the hop's CPU per request
 * (bench/README.md: the proxy at 571 µs per request, a bare node:http + undici relay at 262 µs).
 *
 * The lane does what the full path does, in the same order, for the requests it takes, and
 * the answers are the same (functions/host/proxy-lane.test.ts compares them): the front door's
 * checks, the failed-auth throttle, the rate limits and their headers, the worker reached with
 * the cached worker token (callWorker: a refused connection or a rejected token resolves
 * afresh and retries once), compression of large answers, the request log line and metrics.
 *
 * It takes a request only when every decision on it is already known, and hands anything else
 * to the full path untouched (its body not read): a name that is not plainly a database name,
 * a caller or database not in the resolve cache (the full path fills it), a throttled client,
 * a rate limit that refuses, a body without Content-Length or over the limit, a query string,
 * an upgrade, or a header it reads sent twice (the full path would join the values). Once it
 * took a request it answers it, errors included, since the request may have reached the worker
 * and its rate-limit tokens are spent.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { problemFor, toApiError, unreadableBody } from "../../core/app";
import { bearerFromHeader } from "../../core/bearer";
import type { ApiError } from "../../core/errors";
import { validateDatabaseName } from "../../core/names";
import { controlPlaneFor, failedAuthThrottle } from "../lib/context";
import { MAX_CREDENTIAL_LENGTH } from "../lib/credentials";
import { cachedResolved, callWorker, type DatabaseCaller } from "../lib/database";
import type { FunctionsConfig } from "../lib/env";
import { FORWARDED_REQUEST_HEADERS, PASSED_ON_HEADERS } from "../lib/hrana/transport";
import { admit, type Limit, rateLimitHeaders } from "../lib/rate-limit";
import { matchRoute, type RouteSpec } from "../route-table";
import { compressed, compressor, encodingFor } from "./compression";
import type { HostObservability } from "./observability";
import type { UndiciTransport } from "./undici-transport";
import type { WorkerAnswer, WorkerConnections } from "./worker-connections";

/**
 * The lane's requests: a plain database name (a DNS label, never percent-encoded), then a
 * pipeline of either version or a v3 cursor (what @libsql/client sends for a batch).
 */
const PIPELINE = /^\/db\/([a-z0-9-]{1,63})(\/v[23]\/pipeline|\/v3\/cursor)$/;
/** The request headers the lane reads; a request sending any of them twice goes the full way. */
const READ = new Set([
  "authorization",
  "content-length",
  "transfer-encoding",
  "upgrade",
  "accept-encoding",
  "x-request-id",
  ...FORWARDED_REQUEST_HEADERS,
]);
/** A worker URL the lane's own connections serve: plain HTTP, a host, maybe a port, no path. */
const PLAIN_ORIGIN = /^http:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;
/** hono/request-id's rule for a client's own request id. */
const REQUEST_ID = /^[\w\-=]{1,255}$/;

export interface ProxyLaneOptions {
  config: FunctionsConfig;
  /** How the lane reaches workers at plain http://host:port addresses (all of DB-Forge's). */
  connections: WorkerConnections;
  /** …and any other (an https worker URL). */
  transport: UndiciTransport;
  observability: HostObservability;
}

/** A request the lane took, with what was decided on its head. */
interface Taken {
  path: string;
  name: string;
  rest: string;
  headers: Map<string, string>;
  bearer: string;
  client: string;
  limits: Limit[];
  admittedAt: number;
  startedAt: number;
}

/**
 * The lane: `take(req, res)` answers the request and returns true, or returns false having
 * touched neither (the caller hands both to the full path).
 */
export function proxyLane(
  options: ProxyLaneOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { config } = options;
  const spec = (matchRoute("POST", "/db/a/v2/pipeline") as { spec: RouteSpec }).spec;
  const throttle = failedAuthThrottle(config);

  const head = (req: IncomingMessage): Taken | undefined => {
    const startedAt = performance.now();
    if (req.method !== "POST" || req.url === undefined) return undefined;
    const path = PIPELINE.exec(req.url);
    if (!path) return undefined;
    const headers = readHeaders(req.rawHeaders);
    if (!headers || headers.has("transfer-encoding") || headers.has("upgrade")) return undefined;
    const length = headers.get("content-length");
    if (length === undefined || !/^[0-9]{1,15}$/.test(length)) return undefined;
    if (Number(length) > config.MAX_BODY_BYTES) return undefined;
    const authorization = headers.get("authorization");
    if (authorization === undefined || authorization.length > MAX_CREDENTIAL_LENGTH)
      return undefined;
    const bearer = bearerFromHeader(authorization);
    if (!bearer) return undefined;
    const segment = path[1] as string;
    const name = plainName(segment);
    if (!name || !cachedResolved(name, bearer)) return undefined;
    const client = req.socket.remoteAddress || "unknown";
    if (throttle.retryAfterSeconds(client) > 0) return undefined;
    const admittedAt = Date.now();
    // The rate limits key a database by its path segment, as the full path's middleware does;
    // no limits apply when both are off.
    const { limits, refused } = admit(config, bearer, segment, admittedAt);
    if (refused) return undefined;
    return {
      path: req.url,
      name,
      rest: path[2] as string,
      headers,
      bearer,
      client,
      limits,
      admittedAt,
      startedAt,
    };
  };

  const answer = async (taken: Taken, req: IncomingMessage, res: ServerResponse) => {
    let status = 0;
    let code: string | null = null;
    let requestId: string | undefined;
    try {
      const body = await readBody(req);
      const caller: DatabaseCaller = {
        controlPlane: controlPlaneFor(config, taken.client),
        cacheMs: config.RESOLVE_CACHE_MS,
        bearer: taken.bearer,
        transport: options.transport,
      };
      const forwarded: Record<string, string> = {};
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = taken.headers.get(name);
        if (value) forwarded[name] = value;
      }
      const relayed = await callWorker(
        caller,
        taken.name,
        (resolved) => {
          const headers = { ...forwarded, authorization: `Bearer ${resolved.token}` };
          const plain = PLAIN_ORIGIN.exec(resolved.url);
          return plain
            ? options.connections.post(
                plain[1] as string,
                Number(plain[2] ?? 80),
                taken.rest,
                headers,
                body,
              )
            : options.transport.relay(`${resolved.url}${taken.rest}`, {
                method: "POST",
                headers,
                body,
              });
        },
        isRejectedToken,
      );
      status = relayed.status;
      await writeRelayed(res, relayed, taken);
    } catch (err) {
      // The answer was begun (the worker's answer broke off mid-stream): it cannot become a
      // problem document any more; the connection ends, as on the full path.
      if (res.headersSent) res.destroy();
      else {
        const error = toApiError(err);
        status = error.status;
        code = error.code;
        const sent = taken.headers.get("x-request-id");
        requestId = sent !== undefined && REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
        await writeProblem(res, error, taken, requestId).catch(() => res.destroy());
      }
    }
    if (status === 401) throttle.failed(taken.client);
    options.observability.observe({
      method: "POST",
      path: taken.path,
      authorization: taken.headers.get("authorization"),
      spec,
      status,
      code,
      startedAt: taken.startedAt,
      note: {},
      requestId: requestId ?? crypto.randomUUID(),
    });
    options.observability.tookFastLane();
  };

  return (req, res) => {
    const taken = head(req);
    if (!taken) return false;
    void answer(taken, req, res).catch(() => res.destroy());
    return true;
  };
}

/** The segment as a database name, when it is one as it stands; undefined sends it the full way. */
function plainName(segment: string): string | undefined {
  try {
    return validateDatabaseName(segment);
  } catch {
    return undefined;
  }
}

/** The headers the lane reads, lower-case; undefined if one of them came twice. */
function readHeaders(raw: string[]): Map<string, string> | undefined {
  const headers = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!READ.has(name)) continue;
    if (headers.has(name)) return undefined;
    headers.set(name, raw[i + 1] as string);
  }
  return headers;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
    // Whichever comes first of these (a client gone mid-body): a promise settles once.
    req.on("error", () => reject(unreadableBody()));
    req.on("aborted", () => reject(unreadableBody()));
    req.on("close", () => reject(unreadableBody()));
  });
}

/** As the full path's proxy: the worker refused the token resolve minted (see callWorker). */
function isRejectedToken(answer: WorkerAnswer): boolean {
  if (answer.status !== 401) return false;
  if (answer.body instanceof Readable) answer.body.resume(); // read to its end, then dropped
  return true;
}

/** Header names as the full path writes them: lower-case, in name order (web Headers' own). */
function sortedHeaders(entries: Iterable<[string, string]>): Record<string, string> {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(sorted);
}

async function writeRelayed(res: ServerResponse, relayed: WorkerAnswer, taken: Taken) {
  const rateHeaders = taken.limits.length
    ? Object.entries(rateLimitHeaders(taken.limits, taken.admittedAt)).map(
        ([name, value]) => [name.toLowerCase(), value] as [string, string],
      )
    : [];
  const { status, body } = relayed;
  // Only what describes the body goes on (PASSED_ON_HEADERS), as on the full path.
  const passed: Array<[string, string]> = [];
  for (const name of PASSED_ON_HEADERS) {
    const value = relayed.headers[name];
    if (value !== undefined) passed.push([name, value]);
  }
  if (status === 204 || status === 304) {
    if (body instanceof Readable) body.resume();
    res.writeHead(status, sortedHeaders([...passed, ...rateHeaders]));
    return void res.end();
  }
  const encoding = encodingFor(taken.headers.get("accept-encoding"), {
    contentType: relayed.headers["content-type"],
    contentLength: relayed.headers["content-length"],
    contentEncoding: undefined,
  });
  if (encoding) {
    res.writeHead(
      status,
      sortedHeaders([
        ...passed.filter(([name]) => name !== "content-length"),
        ...rateHeaders,
        ["content-encoding", encoding],
        ["vary", "Accept-Encoding"],
      ]),
    );
    const source = body instanceof Readable ? body : Readable.from([body]);
    return pipeline(source, compressor(encoding), res);
  }
  res.writeHead(status, sortedHeaders([...passed, ...rateHeaders]));
  if (body instanceof Readable) await pipeline(body, res);
  else res.end(body);
}

async function writeProblem(res: ServerResponse, error: ApiError, taken: Taken, requestId: string) {
  const problem = problemFor(error, { instance: taken.path, requestId, hranaErrors: true });
  // As the full path's rate-limit middleware: its headers on every answer, errors included.
  if (taken.limits.length)
    for (const [name, value] of Object.entries(rateLimitHeaders(taken.limits, taken.admittedAt)))
      problem.headers.set(name, value);
  const response = await compressed(taken.headers.get("accept-encoding"), problem);
  const headers: Array<[string, string]> = [];
  response.headers.forEach((value, name) => {
    headers.push([name, value]);
  });
  if (response.headers.has("content-encoding") && response.body) {
    res.writeHead(response.status, sortedHeaders(headers));
    return pipeline(
      Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
      res,
    );
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  // The full path (@hono/node-server) adds the length of a body it holds after the rest.
  res.writeHead(response.status, {
    ...sortedHeaders(headers),
    ...(response.headers.has("content-length") ? {} : { "content-length": String(bytes.length) }),
  });
  res.end(bytes);
}
