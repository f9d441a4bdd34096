/**
 * Request generators for the fuzz test, one per kind of server: the functions (Node host and
 * Miniflare, paths from the real route table), the control plane and a database worker.
 *
 * Safety invariant: the fuzzer may never create or delete a database (creating one starts a
 * worker process; deleting the ones under test would break the final checks). `guard` drops
 * the admin token from any request that could, whatever method or encoding produced it.
 */
import { matchRoute, ROUTE_TABLE } from "../../route-table";
import {
  type AuthKind,
  authKind,
  authorization,
  BAD_ENCODINGS,
  body,
  type Credentials,
  contentType,
  encodeSome,
  INVALID_UTF8,
  junkSegment,
  nameSegment,
  queryString,
  SAFE_SQL,
} from "./inputs";
import type { Rng } from "./prng";

/** Body framing on a raw socket; `short` declares more than it sends (the server waits). */
export type Framing = "length" | "none" | "short" | "long" | "chunked" | "bad-chunked" | "both";

export interface FuzzRequest {
  method: string;
  /** The request target as sent, latin1 (one character per byte on the wire). */
  target: string;
  /** Header values are latin1 too. */
  headers: Array<[string, string]>;
  body?: Buffer | undefined;
  /** fetch (normalizes, refuses invalid headers) or a raw socket (sends bytes as they are). */
  via: "fetch" | "raw";
  framing: Framing;
  /** Bytes after the request (WebSocket frames after an upgrade). */
  trailing?: Buffer;
}

export interface FuzzContext {
  /** The databases under test. */
  databases: string[];
  /** Tables that exist in them. */
  tables: string[];
  creds: Credentials;
  maxBodyBytes: number;
}

const METHODS = [
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "HEAD",
  "OPTIONS",
  "PROPFIND",
  "SEARCH",
  "PURGE",
  "M-SEARCH",
  "TRACE",
  "CONNECT",
  "BREW",
  "get",
  "X".repeat(200),
];

function method(rng: Rng, usual: string): string {
  return rng.chance(0.7) ? usual : rng.pick(METHODS);
}

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function pathnameOf(target: string): string {
  try {
    return new URL(target, "http://host").pathname;
  } catch {
    return "";
  }
}

/** True if the request, sent with the admin token, could create or delete a database. */
function dangerous(ctx: FuzzContext, req: FuzzRequest): boolean {
  const pathname = pathnameOf(req.target);
  const fresh = (name: string | undefined) =>
    name !== undefined && DNS_LABEL.test(name) && !ctx.databases.includes(name);
  const real = (name: string | undefined) => name !== undefined && ctx.databases.includes(name);
  const bodyName = (): string | undefined => {
    try {
      const parsed = JSON.parse(req.body?.toString("utf8") ?? "") as { name?: unknown };
      return typeof parsed?.name === "string" ? parsed.name : undefined;
    } catch {
      return undefined;
    }
  };
  const m = req.method.toUpperCase();
  // Functions: POST /admin/databases, /admin/databases/spawn/{n}, DELETE /admin/databases/{n},
  // POST /admin/databases/{n}/tokens/revoke; the control plane's /v1/databases equivalents.
  if (m === "POST" && /^\/(admin|v1)\/databases\/?$/.test(pathname)) return fresh(bodyName());
  const spawn = /^\/admin\/databases\/spawn\/([^/]+)\/?$/.exec(pathname);
  if (m === "POST" && spawn) return fresh(decoded(spawn[1] ?? ""));
  const del = /^\/(?:admin|v1)\/databases\/(?:prune\/)?([^/]+)\/?$/.exec(pathname);
  if (m === "DELETE" && del) return real(decoded(del[1] ?? ""));
  // Revoking a database's tokens restarts its worker and voids the fuzzer's tokens.
  const revoke = /^\/(?:admin|v1)\/databases\/([^/]+)\/tokens\/revoke\/?$/.exec(pathname);
  if (m === "POST" && revoke) return real(decoded(revoke[1] ?? ""));
  return false;
}

/** Renders the credentials; the admin token only where it cannot create or delete. */
function withAuth(rng: Rng, ctx: FuzzContext, req: FuzzRequest, kind: AuthKind): FuzzRequest {
  const safeKind = kind === "admin" && dangerous(ctx, req) ? "foreign" : kind;
  for (const value of authorization(rng, safeKind, ctx.creds))
    req.headers.push(["Authorization", value]);
  return req;
}

function extraHeaders(rng: Rng): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const n = rng.weighted([
    [6, 0],
    [3, 1],
    [1, 3],
  ]);
  for (let i = 0; i < n; i++) {
    headers.push(
      rng.weighted<() => [string, string]>([
        [1, () => ["X-Junk", rng.pick(INVALID_UTF8) + rng.ascii(5)]],
        [1, () => ["X-Huge", "h".repeat(rng.int(10_000, 70_000))]],
        [1, () => ["Expect", rng.pick(["100-continue", "nothing"])]],
        [1, () => ["Accept", rng.pick(["*/*", "application/json", "\xff"])]],
        [1, () => ["X-Turso-Encryption-Key", rng.pick(["", "\xff\xfe", "k".repeat(5000)])]],
        [1, () => ["Content-Encoding", rng.pick(["gzip", "br", "identity", "x"])]],
        [1, () => ["Cookie", `a=${rng.pick(BAD_ENCODINGS)}`]],
        [1, () => ["Origin", rng.pick(["null", "http://evil", "\xff"])]],
        [1, () => ["Upgrade", rng.pick(["websocket", "h2c", "foo"])]],
        [1, () => [rng.ascii(rng.int(1, 20)).replace(/:/g, ""), rng.ascii(rng.int(0, 30))]],
      ])(),
    );
  }
  return headers;
}

function framing(rng: Rng): Framing {
  return rng.weighted<Framing>([
    [20, "length"],
    [1, "none"],
    [1, "short"],
    [1, "long"],
    [1, "chunked"],
    [1, "bad-chunked"],
    [1, "both"],
  ]);
}

export function hranaStatement(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [4, () => ({ sql: rng.pick(SAFE_SQL), want_rows: rng.chance(0.8) })],
    [1, () => ({ sql: "SELECT ?", args: [rng.pick(HRANA_VALUES)] })],
    [1, () => ({ sql: "SELECT :a", named_args: [{ name: ":a", value: rng.pick(HRANA_VALUES) }] })],
    [1, () => ({ sql_id: rng.int(-1, 3) })],
    [1, () => ({ sql: 1 })],
    [1, () => ({})],
  ])();
}

const HRANA_VALUES: unknown[] = [
  { type: "integer", value: "1" },
  { type: "integer", value: "abc" },
  { type: "integer", value: "99999999999999999999999" },
  { type: "float", value: "x" },
  { type: "text", value: 5 },
  { type: "blob", base64: "!!!" },
  { type: "blob", base64: "AAEC" },
  { type: "null" },
  { type: "nope" },
  null,
  "plain",
];

export function hranaPipeline(rng: Rng): unknown {
  const request = (): unknown =>
    rng.weighted<() => unknown>([
      [4, () => ({ type: "execute", stmt: hranaStatement(rng) })],
      [1, () => ({ type: "batch", batch: { steps: [{ stmt: hranaStatement(rng) }] } })],
      [1, () => ({ type: "batch", batch: { steps: [{ stmt: {}, condition: { type: "x" } }] } })],
      [1, () => ({ type: "sequence", sql: rng.pick(SAFE_SQL) })],
      [1, () => ({ type: "describe", stmt: hranaStatement(rng) })],
      [1, () => ({ type: "store_sql", sql_id: rng.int(-1, 3), sql: rng.pick(SAFE_SQL) })],
      [1, () => ({ type: "close_sql", sql_id: rng.int(-1, 3) })],
      [1, () => ({ type: rng.pick(["close", "get_autocommit", "nope", 7]) })],
    ])();
  return {
    baton: rng.pick([null, null, null, "garbage", 1]),
    requests: Array.from({ length: rng.int(0, 4) }, request),
  };
}

function hranaCursor(rng: Rng): unknown {
  return {
    baton: rng.pick([null, "garbage"]),
    batch: { steps: Array.from({ length: rng.int(0, 3) }, () => ({ stmt: hranaStatement(rng) })) },
  };
}

/** A well-formed body for an entry of the route table (invalid SQL and all). */
function validBody(rng: Rng, ctx: FuzzContext, entry: string): () => unknown {
  const sql = () => rng.pick(SAFE_SQL);
  const bodies: Record<string, () => unknown> = {
    "databases/create": () => ({
      name: rng.pick([...ctx.databases, "Bad Name", "x".repeat(300), "a/b", "%70eer", ""]),
    }),
    "databases/tokens": () => ({
      access: rng.pick(["read-only", "full-access", "root", 1]),
      expiresIn: rng.pick(["1h", "0s", "-1h", "99999999d", null, 1e308, "x"]),
    }),
    "data/query": () => ({ sql: sql(), params: rng.pick([[], [1, "a"], { a: 1 }, "x", [{}]]) }),
    "data/batch": () => ({
      statements: Array.from({ length: rng.int(0, 3) }, () => ({ sql: sql() })),
      mode: rng.pick(["write", "read", "deferred", "x"]),
    }),
    "tables/create": () => ({
      name: rng.pick(["t", "t2", "", "x".repeat(200), "\u0000", 'a"b']),
      columns: rng.pick([
        [{ name: "x", type: "TEXT" }],
        [{ name: "", type: "NOPE" }],
        [],
        [{ name: "x", references: { table: "t" } }],
      ]),
      ifNotExists: true,
    }),
    "rows/insert": () => rng.pick([[{ x: 1 }], { rows: [{ x: "a" }] }, [], [{ nope: 1 }], [1]]),
    "rows/update": () => rng.pick([{ set: { x: 2 } }, { x: 3 }, {}, { set: 1 }]),
    "libsql/proxy": () => (rng.chance(0.8) ? hranaPipeline(rng) : hranaCursor(rng)),
  };
  return bodies[entry] ?? (() => ({ sql: sql() }));
}

/** A path for a route-table entry with hostile segments, or pure junk. */
function functionsPath(rng: Rng, ctx: FuzzContext): { path: string; method: string } {
  if (rng.chance(0.1)) {
    const segments = Array.from({ length: rng.int(1, 5) }, () => junkSegment(rng));
    return { path: `/${segments.join("/")}`, method: rng.pick(METHODS) };
  }
  const spec = rng.pick(ROUTE_TABLE);
  let path = spec.path
    .replace("{name}", () => nameSegment(rng, ctx.databases))
    .replace("{table}", () => nameSegment(rng, ctx.tables));
  if (path.endsWith("/*")) {
    const rest = spec.path.startsWith("/db/")
      ? rng.pick(["", "/", "/v2", "/v3", "/v2/pipeline", "/v3/pipeline", "/v3/cursor", "/health"])
      : rng.pick(["/index.js", "/x.css", "/%E0%A4%A.js", "/..%2f..%2fpackage.json", "/\xff.js"]);
    path = path.slice(0, -2) + (rng.chance(0.85) ? rest : `/${junkSegment(rng)}`);
  }
  if (rng.chance(0.1)) {
    const parts = path.split("/");
    parts.splice(rng.int(1, parts.length), 0, junkSegment(rng));
    path = parts.join("/");
  }
  const usual = spec.method === "ALL" ? rng.pick(["POST", "GET"]) : spec.method;
  return { path, method: method(rng, usual) };
}

/** A request for the functions (Node host or Miniflare). */
export function functionsRequest(rng: Rng, ctx: FuzzContext): FuzzRequest {
  const { path, method: m } = functionsPath(rng, ctx);
  const entry = matchRoute(m.toUpperCase(), pathnameOf(path));
  const entryId = entry && "spec" in entry ? entry.spec.entry : "data/query";
  const headers: Array<[string, string]> = [];
  const type = contentType(rng);
  if (type) headers.push(["Content-Type", type]);
  headers.push(...extraHeaders(rng));
  const req: FuzzRequest = {
    method: m,
    target: path + queryString(rng),
    headers,
    body: ["GET", "HEAD"].includes(m)
      ? undefined
      : body(rng, validBody(rng, ctx, entryId), ctx.maxBodyBytes),
    via: rng.chance(0.35) ? "raw" : "fetch",
    framing: framing(rng),
  };
  return withAuth(rng, ctx, req, authKind(rng));
}

/**
 * A WebSocket upgrade (raw) with good and bad handshakes: to `path`, or mostly to /db/{name}/
 * of the functions.
 */
export function upgradeRequest(rng: Rng, ctx: FuzzContext, path?: string): FuzzRequest {
  path ??= rng.chance(0.8)
    ? `/db/${nameSegment(rng, ctx.databases)}${rng.pick(["/", "", "/v2", "//"])}`
    : functionsPath(rng, ctx).path;
  const key = rng.weighted<() => string | undefined>([
    [6, () => rng.bytes(16).toString("base64")],
    [1, () => undefined],
    [1, () => rng.pick(["short", "!!!!", "", rng.bytes(20).toString("base64"), "\xff".repeat(24)])],
  ])();
  const headers: Array<[string, string]> = [
    [
      "Upgrade",
      rng.weighted([
        [8, "websocket"],
        [1, "WebSocket"],
        [1, rng.pick(["h2c", "", "\xff"])],
      ]),
    ],
    [
      "Connection",
      rng.weighted([
        [9, "Upgrade"],
        [1, rng.pick(["keep-alive", "upgrade, close"])],
      ]),
    ],
  ];
  if (key !== undefined) headers.push(["Sec-WebSocket-Key", key]);
  const version = rng.weighted([
    [8, "13"],
    [1, "8"],
    [1, rng.pick(["99", "", "x", "13, 13"])],
  ]);
  if (rng.chance(0.95)) headers.push(["Sec-WebSocket-Version", version]);
  if (rng.chance(0.8)) {
    const protocols = rng.weighted([
      [4, "hrana3"],
      [1, "hrana2, hrana1"],
      [1, "hrana3-protobuf"],
      [1, rng.pick(["foo", "", ",,,", "\xff", "hrana3,\x00", "x".repeat(5000)])],
    ]);
    headers.push(["Sec-WebSocket-Protocol", protocols]);
  }
  if (rng.chance(0.1)) headers.push(["Sec-WebSocket-Extensions", "permessage-deflate; x=\xff"]);
  headers.push(...extraHeaders(rng));
  // Frames the client sends at once, arriving in the upgrade's `head`: garbage or a masked
  // text frame too long for what follows.
  const trailing = rng.chance(0.3)
    ? rng.chance(0.5)
      ? rng.bytes(rng.int(1, 64))
      : Buffer.from([0x81, 0xfe, 0xff, 0xff, 1, 2, 3, 4])
    : undefined;
  const req: FuzzRequest = {
    method: rng.chance(0.9) ? "GET" : rng.pick(METHODS),
    target: path,
    headers,
    via: "raw",
    framing: "none",
    ...(trailing ? { trailing } : {}),
  };
  return withAuth(rng, ctx, req, authKind(rng));
}

const CONTROL_PLANE_PATHS = [
  ["GET", "/health"],
  ["GET", "/openapi.json"],
  ["GET", "/v1/databases"],
  ["POST", "/v1/databases"],
  ["GET", "/v1/databases/{name}"],
  ["DELETE", "/v1/databases/{name}"],
  ["POST", "/v1/databases/{name}/resolve"],
  ["POST", "/v1/databases/{name}/tokens"],
  ["POST", "/v1/databases/{name}/tokens/revoke"],
] as const;

export function controlPlaneRequest(rng: Rng, ctx: FuzzContext): FuzzRequest {
  const [usual, template] = rng.pick(CONTROL_PLANE_PATHS);
  let path = template.replace("{name}", () => nameSegment(rng, ctx.databases));
  if (rng.chance(0.15)) path += `/${junkSegment(rng)}`;
  const m = method(rng, usual);
  const valid = template.endsWith("tokens")
    ? validBody(rng, ctx, "databases/tokens")
    : validBody(rng, ctx, "databases/create");
  const headers: Array<[string, string]> = [];
  const type = contentType(rng);
  if (type) headers.push(["Content-Type", type]);
  headers.push(...extraHeaders(rng));
  const req: FuzzRequest = {
    method: m,
    target: path + queryString(rng),
    headers,
    body: ["GET", "HEAD"].includes(m) ? undefined : body(rng, valid, 1024 * 1024),
    via: "raw",
    framing: framing(rng),
  };
  return withAuth(rng, ctx, req, authKind(rng));
}

const WORKER_PATHS = ["/health", "/version", "/v2", "/v3", "/v2/pipeline", "/v3/pipeline"];

/** A path on the control plane or a worker, for upgrade requests. */
export function servicePath(
  rng: Rng,
  ctx: FuzzContext,
  service: "control-plane" | "worker",
): string {
  if (rng.chance(0.2)) return `/${junkSegment(rng)}`;
  if (service === "worker") return rng.pick(["/", ...WORKER_PATHS]);
  return rng.pick(CONTROL_PLANE_PATHS)[1].replace("{name}", () => nameSegment(rng, ctx.databases));
}

/** A request for a database worker; `workerToken` is one resolve minted for it. */
export function workerRequest(rng: Rng, ctx: FuzzContext, workerToken: string): FuzzRequest {
  const path = rng.chance(0.9)
    ? rng.pick([...WORKER_PATHS, "/v3/cursor"])
    : `/${junkSegment(rng)}/${encodeSome(rng, "v2/pipeline")}`;
  const m = method(rng, path.includes("pipeline") || path.includes("cursor") ? "POST" : "GET");
  const valid = path === "/v3/cursor" ? () => hranaCursor(rng) : () => hranaPipeline(rng);
  const headers: Array<[string, string]> = [];
  const type = contentType(rng);
  if (type) headers.push(["Content-Type", type]);
  headers.push(...extraHeaders(rng));
  const req: FuzzRequest = {
    method: m,
    target: path + queryString(rng),
    headers,
    body: ["GET", "HEAD"].includes(m) ? undefined : body(rng, valid, 2 * 1024 * 1024),
    via: "raw",
    framing: framing(rng),
  };
  const kind = authKind(rng);
  // The worker knows its own tokens only: the "database" kind sends one resolve minted.
  if (kind === "database") req.headers.push(["Authorization", `Bearer ${workerToken}`]);
  else withAuth(rng, ctx, req, kind);
  return req;
}
