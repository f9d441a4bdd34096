/**
 * The Node host's fast lane for the libSQL proxy's main requests, `POST /db/{name}/v2|v3/
 * pipeline` and `/v3/cursor` (what @libsql/client sends for every statement and batch), on the
 * shared hot path (core/hot-path.ts): framed on the raw socket, and answered without node:http's
 * request and response, the web Request and Response, the route's Hono app and its middleware.
 * That machinery is most of the hop's CPU per request (bench/README.md).
 *
 * The lane does what the full path does, in the same order, for the requests it takes, and
 * the answers are the same (functions/host/proxy-lane.test.ts compares them): the front door's
 * checks, the failed-auth throttle, the rate limits and their headers, the worker reached with
 * the cached worker token (callWorker: a refused connection or a rejected token resolves
 * afresh and retries once), compression of large answers, the request log line and metrics.
 *
 * It takes a request only when every decision on it is already known from its head. The
 * rest of the host's requests on these connections are answered by the full path in this
 * process, through the host's own fetch handler (as @hono/node-server would call it): a
 * connection stays on the hot path whatever a client asks on it, so a client's version probe
 * (`GET /db/{name}/v3`, the first thing @libsql/client asks) or an admin call on its kept-alive
 * connection does not send that connection to node:http for good. Among the pipelines, the full
 * path gets a name that is not plainly a database name, a caller or database not in the resolve
 * cache (the full path fills it), a throttled client, or a rate limit that refuses. Only rarer
 * HTTP goes to node:http with its connection: HEAD, chunked or over-limit bodies, `Expect`,
 * upgrades, `Connection: close`, HTTP/1.0, unusual targets (core/hot-path.ts).
 */
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { problemFor, toApiError } from "../../core/app";
import { bearerFromHeader } from "../../core/bearer";
import type { ApiError } from "../../core/errors";
import type { HotAnswer, HotHead, HotPathOptions } from "../../core/hot-path";
import { validateDatabaseName } from "../../core/names";
import { controlPlaneFor, failedAuthThrottle } from "../lib/context";
import { MAX_CREDENTIAL_LENGTH } from "../lib/credentials";
import { cachedResolved, callWorker, type DatabaseCaller } from "../lib/database";
import type { FunctionsConfig } from "../lib/env";
import { FORWARDED_REQUEST_HEADERS, PASSED_ON_HEADERS } from "../lib/hrana/transport";
import { admit, type Limit, rateLimitHeaders } from "../lib/rate-limit";
import { matchRoute, type RouteSpec } from "../route-table";
import { compressed, compressor, encodingFor } from "./compression";
import { lightRequest } from "./light-request";
import type { HostObservability } from "./observability";
import type { UndiciTransport } from "./undici-transport";
import type { WorkerAnswer, WorkerConnections } from "./worker-connections";

/**
 * The request lines of the lane's own requests: a plain database name (a DNS label, never
 * percent-encoded), then a pipeline of either version or a v3 cursor.
 */
const LANE_LINE = /^POST (\/db\/([a-z0-9-]{1,63})(\/v[23]\/pipeline|\/v3\/cursor)) HTTP\/1\.1$/;
/**
 * The request lines the hot path takes for the full path: the methods with a body of their
 * own meaning (HEAD is node:http's), and a target of the characters RFC 3986 allows in a path
 * and query, so that the URL made of it is what @hono/node-server would make.
 */
const FULL_LINE =
  /^(GET|POST|PUT|PATCH|DELETE|OPTIONS) (\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*) HTTP\/1\.1$/;
/** The request headers the lane reads; a request sending any of them twice goes to node:http. */
const READS: ReadonlySet<string> = new Set([
  "host",
  "authorization",
  "accept-encoding",
  "x-request-id",
  ...FORWARDED_REQUEST_HEADERS,
]);
/** A Host the full path can make a URL of unchanged: a name or address, maybe a port. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** A worker URL the lane's own connections serve: plain HTTP, a host, maybe a port, no path. */
const PLAIN_ORIGIN = /^http:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;
/** hono/request-id's rule for a client's own request id. */
const REQUEST_ID = /^[\w\-=]{1,255}$/;
const EMPTY = Buffer.alloc(0);

export interface ProxyLaneOptions {
  config: FunctionsConfig;
  /** How the lane reaches workers at plain http://host:port addresses (all of DB-Forge's). */
  connections: WorkerConnections;
  /** …and any other (an https worker URL). */
  transport: UndiciTransport;
  observability: HostObservability;
  /** The full path: the host's fetch handler, for the requests the lane leaves to it. */
  fullPath(request: Request, socket: Socket): Promise<Response>;
}

/** What the request line says: a pipeline the lane may take, or a request for the full path. */
export type LaneRoute = { segment: string; rest: string } | { method: string };

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

type Admitted = { taken: Taken } | { full: HotHead<LaneRoute> };

export type ProxyLane = Pick<
  HotPathOptions<LaneRoute, Admitted>,
  "route" | "reads" | "admit" | "answer"
>;

/** The lane, as the user of the host's hot path (functions/host/node.ts). */
export function proxyLane(options: ProxyLaneOptions): ProxyLane {
  const { config } = options;
  const spec = (matchRoute("POST", "/db/a/v2/pipeline") as { spec: RouteSpec }).spec;
  const throttle = failedAuthThrottle(config);

  /** The lane's decision on a pipeline's head: taken, or undefined for the full path. */
  const take = (head: HotHead<LaneRoute>, segment: string, rest: string): Taken | undefined => {
    const startedAt = performance.now();
    const { headers } = head;
    const authorization = headers.get("authorization");
    if (authorization === undefined || authorization.length > MAX_CREDENTIAL_LENGTH)
      return undefined;
    const bearer = bearerFromHeader(authorization);
    if (!bearer) return undefined;
    const name = plainName(segment);
    if (!name || !cachedResolved(name, bearer)) return undefined;
    const client = head.socket.remoteAddress || "unknown";
    if (throttle.retryAfterSeconds(client) > 0) return undefined;
    const admittedAt = Date.now();
    // The rate limits key a database by its path segment, as the full path's middleware does;
    // no limits apply when both are off.
    const { limits, refused } = admit(config, bearer, segment, admittedAt);
    if (refused) return undefined;
    return {
      path: head.target,
      name,
      rest,
      headers,
      bearer,
      client,
      limits,
      admittedAt,
      startedAt,
    };
  };

  const answerTaken = async (taken: Taken, body: Buffer): Promise<HotAnswer> => {
    let answer: HotAnswer;
    let code: string | null = null;
    let requestId: string | undefined;
    try {
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
      answer = relayedAnswer(relayed, taken);
    } catch (err) {
      const error = toApiError(err);
      code = error.code;
      const sent = taken.headers.get("x-request-id");
      requestId = sent !== undefined && REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
      answer = await problemAnswer(error, taken, requestId);
    }
    if (answer.status === 401) throttle.failed(taken.client);
    options.observability.observe({
      method: "POST",
      path: taken.path,
      authorization: taken.headers.get("authorization"),
      spec,
      status: answer.status,
      code,
      startedAt: taken.startedAt,
      note: {},
      requestId: requestId ?? crypto.randomUUID(),
    });
    options.observability.tookFastLane();
    return answer;
  };

  const answerFull = async (head: HotHead<LaneRoute>, body: Buffer): Promise<HotAnswer> => {
    const method = "method" in head.route ? head.route.method : "POST";
    const url = `http://${head.headers.get("host")}${head.target}`;
    // As @hono/node-server: a GET's body (if any) is read and dropped.
    const request = lightRequest(method, url, head.lines, method === "GET" ? EMPTY : body);
    return hotAnswerOf(await options.fullPath(request, head.socket));
  };

  return {
    route: (line) => {
      const lane = LANE_LINE.exec(line);
      if (lane) return { segment: lane[2] as string, rest: lane[3] as string };
      const full = FULL_LINE.exec(line);
      return full ? { method: full[1] as string } : undefined;
    },
    reads: READS,
    admit: (head) => {
      // The full path's URL is made of the Host: one that would change it is node:http's.
      if (!PLAIN_HOST.test(head.headers.get("host") ?? "")) return undefined;
      const { route } = head;
      const taken = "method" in route ? undefined : take(head, route.segment, route.rest);
      return { admitted: taken ? { taken } : { full: head } };
    },
    answer: (admitted, body) =>
      "taken" in admitted ? answerTaken(admitted.taken, body) : answerFull(admitted.full, body),
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

/** As the full path's proxy: the worker refused the token resolve minted (see callWorker). */
function isRejectedToken(answer: WorkerAnswer): boolean {
  if (answer.status !== 401) return false;
  if (answer.body instanceof Readable) answer.body.resume(); // read to its end, then dropped
  return true;
}

/** Header pairs as the full path writes them: lower-case, in name order (web Headers' own). */
function sortedPairs(entries: Array<[string, string]>): string[] {
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.flat();
}

function relayedAnswer(relayed: WorkerAnswer, taken: Taken): HotAnswer {
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
    return { status, headers: sortedPairs([...passed, ...rateHeaders]), body: EMPTY };
  }
  const encoding = encodingFor(taken.headers.get("accept-encoding"), {
    contentType: relayed.headers["content-type"],
    contentLength: relayed.headers["content-length"],
    contentEncoding: undefined,
  });
  if (!encoding) return { status, headers: sortedPairs([...passed, ...rateHeaders]), body };
  const compressing = compressor(encoding);
  // A source that fails destroys the compressor with its error: the hot path then ends the
  // connection, as node:http does for a body that breaks off.
  if (body instanceof Readable) pipeline(body, compressing).catch(() => {});
  else compressing.end(body);
  return {
    status,
    headers: sortedPairs([
      ...passed.filter(([name]) => name !== "content-length"),
      ...rateHeaders,
      ["content-encoding", encoding],
      ["vary", "Accept-Encoding"],
    ]),
    body: compressing,
  };
}

async function problemAnswer(error: ApiError, taken: Taken, requestId: string): Promise<HotAnswer> {
  const problem = problemFor(error, { instance: taken.path, requestId, hranaErrors: true });
  // As the full path's rate-limit middleware: its headers on every answer, errors included.
  if (taken.limits.length)
    for (const [name, value] of Object.entries(rateLimitHeaders(taken.limits, taken.admittedAt)))
      problem.headers.set(name, value);
  return hotAnswerOf(await compressed(taken.headers.get("accept-encoding"), problem));
}

/**
 * A web Response as @hono/node-server writes it: its headers (lower-case, in name order), a
 * text content type if a body has none, and a body that is complete at once sent whole with its
 * length, any other streamed (chunked, unless it gave its length).
 */
export async function hotAnswerOf(response: Response): Promise<HotAnswer> {
  const whole = wholeBodyOf(response);
  const headers: string[] = [];
  let close = false;
  let type = false;
  let length = false;
  response.headers.forEach((value, name) => {
    // The connection's own headers are the hot path's to write.
    if (name === "connection") close = /\bclose\b/i.test(value);
    else if (name !== "keep-alive" && name !== "transfer-encoding") {
      if (name === "content-type") type = true;
      if (name === "content-length") length = true;
      headers.push(name, value);
    }
  });
  const { status } = response;
  if (whole !== undefined) {
    if (whole === null) return { status, headers, body: EMPTY, close };
    if (!type) headers.push("content-type", "text/plain; charset=UTF-8");
    if (!length) headers.push("content-length", String(Buffer.byteLength(whole)));
    return { status, headers, body: typeof whole === "string" ? whole : Buffer.from(whole), close };
  }
  const stream = response.body;
  if (!stream) return { status, headers, body: EMPTY, close };
  if (!type) headers.push("content-type", "text/plain; charset=UTF-8");
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let pending: ReturnType<typeof reader.read> | undefined;
  // What is ready within a turn or two (@hono/node-server's own rule): a c.json body always is.
  for (let i = 0, tries = 2; i < tries; i++) {
    pending ??= reader.read();
    const read = await Promise.race([pending, Promise.resolve().then(() => undefined)]);
    if (!read) {
      if (i === 1) {
        await new Promise((resolve) => setTimeout(resolve));
        tries = 3;
        continue;
      }
      break;
    }
    pending = undefined;
    if (read.value) chunks.push(read.value);
    if (read.done) {
      const body = Buffer.concat(chunks);
      if (!length) headers.push("content-length", String(body.length));
      return { status, headers, body, close };
    }
  }
  async function* rest() {
    try {
      yield* chunks;
      for (;;) {
        const read = await (pending ?? reader.read());
        pending = undefined;
        if (read.done) return;
        yield read.value;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
  return { status, headers, body: Readable.from(rest(), { objectMode: false }), close };
}

/**
 * The body a Response was made with, when it is whole (a string or bytes) or none (null), and
 * the Response is @hono/node-server's lightweight one, which keeps it (what c.json and c.text
 * make): written as it is, as @hono/node-server itself writes it, instead of through a web
 * stream, which costs ~100 µs of CPU per answer (bench/README.md). The kept body is that
 * class's own (a symbol it does not export, found by its description); a Response without it,
 * or a version that keeps it otherwise, is read as any Response (undefined here).
 */
function wholeBodyOf(response: Response): string | Uint8Array | null | undefined {
  const key = keptKey();
  if (!Object.hasOwn(response, key)) return undefined;
  const entry = (response as unknown as Record<symbol, unknown>)[key];
  if (!Array.isArray(entry)) return undefined;
  const body: unknown = entry[1];
  return body === null || typeof body === "string" || body instanceof Uint8Array ? body : undefined;
}

/**
 * @hono/node-server's key of a lightweight Response's kept status, body and headers. Looked up
 * on first use: its Response is the global one only once the host's listener is made.
 */
let kept: symbol | undefined;
function keptKey(): symbol {
  kept ??=
    Object.getOwnPropertySymbols(new Response("")).find((key) => key.description === "cache") ??
    Symbol("none");
  return kept;
}
