/**
 * The worker's configuration, parsed once from the environment. The SQLD_* variables mean what
 * they mean to sqld (libsql-server), so the official image and this worker are interchangeable;
 * DBFORGE_* variables tune what sqld does not expose.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
// zod/mini: the same validation as zod, in a fraction of its code, which every worker process
// would otherwise load and keep in memory (density: bench/density.ts).
import * as z from "zod/mini";
import { parseByteSize } from "../../core/byte-size";
import { listenAddressSchema } from "../../core/listen-address";

/** sqld takes sizes like "10MB" (decimal units), "4 MiB" or plain bytes. */
const byteSize = z.pipe(
  z.string().check(z.trim()),
  z.transform((text: string, ctx) => {
    const bytes = parseByteSize(text);
    if (bytes === undefined) {
      ctx.issues.push({
        code: "custom",
        message: `invalid size "${text}" (e.g. 10MB, 4MiB, 1048576)`,
        input: text,
      });
      return z.NEVER;
    }
    return bytes;
  }),
);

const listenAddr = listenAddressSchema("0.0.0.0");

const millis = z.coerce.number().check(z.int(), z.positive());
const text = z.string().check(z.minLength(1));
const defaulted = <T extends z.ZodMiniType>(schema: T, value: z.output<T>) =>
  z._default(schema, value as never);

const EnvSchema = z.object({
  SQLD_HTTP_LISTEN_ADDR: z.prefault(listenAddr, "127.0.0.1:8080"),
  /** A second listener for WebSocket-only Hrana, as sqld's --hrana-listen-addr. */
  SQLD_HRANA_LISTEN_ADDR: z.optional(listenAddr),
  /** sqld's data directory; the database file is <path>/dbs/default/data. */
  SQLD_DB_PATH: defaulted(text, "data.sqld"),
  SQLD_AUTH_JWT_KEY: z.optional(text),
  SQLD_AUTH_JWT_KEY_FILE: z.optional(text),
  /** sqld's idle shutdown: exit (gracefully, status 0) after this many seconds without use. */
  SQLD_IDLE_SHUTDOWN_TIMEOUT_S: z.optional(z.coerce.number().check(z.positive())),
  SQLD_MAX_RESPONSE_SIZE: defaulted(byteSize, 10_000_000),
  SQLD_MAX_TOTAL_RESPONSE_SIZE: defaulted(byteSize, 32_000_000),
  /** A statement running longer is interrupted and fails with SQLITE_INTERRUPT. */
  DBFORGE_QUERY_TIMEOUT_MS: defaulted(millis, 5000),
  /** How long a writer waits for another transaction's write lock before SQLITE_BUSY. */
  DBFORGE_LOCK_WAIT_TIMEOUT_MS: defaulted(millis, 15000),
  /** sqld's TXN_TIMEOUT: a transaction holding the write lock this long yields to waiting writers. */
  DBFORGE_TRANSACTION_TIMEOUT_MS: defaulted(millis, 5000),
  /** sqld closes HTTP streams idle for 10 s, rolling back their transactions. */
  DBFORGE_STREAM_IDLE_TIMEOUT_MS: defaulted(millis, 10000),
  /**
   * SQLite connections open at once. A stream holds one only while a request runs or while its
   * transaction is open, so this bounds open transactions; past it a new one gets SQLITE_BUSY.
   */
  DBFORGE_MAX_CONNECTIONS: defaulted(z.coerce.number().check(z.int(), z.minimum(2)), 128),
  /** Open HTTP streams (batons) kept at once; past it the longest unused one without a transaction expires. */
  DBFORGE_MAX_STREAMS: defaulted(z.coerce.number().check(z.int(), z.minimum(16)), 4096),
  /**
   * on: every commit is copied from the WAL into <SQLD_DB_PATH>/dbforge-wal before any
   * checkpoint (point-in-time restore, backups); tenants may then not checkpoint themselves.
   */
  DBFORGE_WAL_ARCHIVE: defaulted(z.enum(["on", "off"]), "off"),
  /** An archive segment is closed (ready to ship) after this long once it holds a commit. */
  DBFORGE_WAL_SEGMENT_MS: defaulted(millis, 10000),
  /** FULL: every acknowledged commit is on disk, even across power loss. */
  DBFORGE_SYNCHRONOUS: defaulted(z.enum(["FULL", "NORMAL"]), "FULL"),
  /** Largest request body accepted. */
  DBFORGE_MAX_BODY_BYTES: defaulted(byteSize, 64 * 1024 * 1024),
  /** On SIGTERM, in-flight requests get this long to finish. */
  DBFORGE_SHUTDOWN_GRACE_MS: defaulted(millis, 10000),
  /**
   * The worker's memory budget. SQLite's share (SQLITE_HEAP_SHARE of it) is a hard heap limit:
   * a statement that needs more fails with SQLITE_NOMEM and the worker keeps serving. The
   * JavaScript heap is capped by whoever starts the worker (NODE_OPTIONS, see the drivers).
   */
  DBFORGE_MEMORY_LIMIT: defaulted(byteSize, 512 * 1024 * 1024),
  /**
   * Memory all stored SQL texts (Hrana store_sql) may take together, over every HTTP stream and
   * WebSocket; past it store_sql fails with SQL_STORE_TOO_MANY. Unset: STORED_SQL_SHARE of
   * DBFORGE_MEMORY_LIMIT.
   */
  DBFORGE_MAX_STORED_SQL_BYTES: z.optional(byteSize),
  /**
   * Space kept back (a file in the data directory) so that deleting rows, dropping tables and
   * VACUUM still work when the disk is full; 0 keeps none.
   */
  DBFORGE_DISK_RESERVE: defaulted(byteSize, 4 * 1024 * 1024),
  /**
   * The database's quota: its file may not grow past this (PRAGMA max_page_count on every
   * connection); a write that needs more fails with SQLITE_FULL and a message naming the quota,
   * while deletes and VACUUM still work. Unset: no quota.
   */
  DBFORGE_MAX_DB_BYTES: z.optional(byteSize),
  /** The worker's log level (pino's levels); at debug every statement is logged (its SQL hash). */
  DBFORGE_LOG_LEVEL: defaulted(
    z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
    "info",
  ),
  /** How often the usage counters are written to <SQLD_DB_PATH>/dbforge-usage.json. */
  DBFORGE_USAGE_FLUSH_MS: defaulted(millis, 5000),
  /**
   * Which libSQL binding runs the database: "pre" (query timeouts, action-level authorizer;
   * Linux x64), "stable" (every platform), or "auto" (pre where it loads, else stable).
   */
  DBFORGE_ENGINE: defaulted(z.enum(["auto", "pre", "stable"]), "auto"),
  /** Started as root: the unprivileged uid and gid to switch to before serving (see privileges). */
  DBFORGE_WORKER_UID: z.optional(z.coerce.number().check(z.int(), z.positive())),
  DBFORGE_WORKER_GID: z.optional(z.coerce.number().check(z.int(), z.positive())),
});

/** The part of DBFORGE_MEMORY_LIMIT SQLite may allocate (page caches, sorting, values). */
export const SQLITE_HEAP_SHARE = 0.4;
/**
 * The part of DBFORGE_MEMORY_LIMIT stored SQL texts may take by default: a seventh of the
 * JavaScript heap the drivers give a worker (0.35 of the limit).
 */
export const STORED_SQL_SHARE = 0.05;

export type WorkerEnv = z.output<typeof EnvSchema>;

export interface WorkerConfig extends WorkerEnv {
  /** The SQLite file inside SQLD_DB_PATH, where sqld keeps its default namespace. */
  dbFile: string;
  /** JWT public key material, or undefined when authentication is off. */
  jwtKey: string | undefined;
  /** Who to run as (DBFORGE_WORKER_UID/GID), or undefined to stay who we are. */
  runAs: { uid: number; gid: number } | undefined;
}

export function parseEnv(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid worker configuration:\n  ${issues.join("\n  ")}`);
  }
  const config = parsed.data;
  // sqld reads the key file first and the inline key only without one.
  const jwtKey = config.SQLD_AUTH_JWT_KEY_FILE
    ? readFileSync(config.SQLD_AUTH_JWT_KEY_FILE, "utf8")
    : config.SQLD_AUTH_JWT_KEY;
  const uid = config.DBFORGE_WORKER_UID;
  const runAs = uid === undefined ? undefined : { uid, gid: config.DBFORGE_WORKER_GID ?? uid };
  return {
    ...config,
    dbFile: join(config.SQLD_DB_PATH, "dbs", "default", "data"),
    jwtKey,
    runAs,
  };
}

/** A pooled worker's claim over HTTP (the Docker driver's pool, see ./pool-channel.ts). */
export interface HttpClaim {
  /** DBFORGE_POOL_SECRET: the bearer token of the control plane's claim and lease requests. */
  secret: string;
  /** Where the claim is taken (the worker's own address: the container's one published port). */
  listen: { host: string; port: number };
  /** DBFORGE_POOL_LEASE_MS: unclaimed and not asked after for this long, the worker exits. */
  leaseMs: number;
}

/**
 * What a pooled worker knows before it is claimed (see main.ts): its pool slot (set only for
 * pooled workers), the engine to load while it waits, and, for a claim over HTTP instead of
 * the process driver's IPC channel, its secret and lease.
 */
export function parsePoolEnv(env: NodeJS.ProcessEnv): {
  slot: string | undefined;
  engine: "auto" | "pre" | "stable";
  http: HttpClaim | undefined;
} {
  const parsed = z
    .object({
      ...z.pick(EnvSchema, { DBFORGE_ENGINE: true, SQLD_HTTP_LISTEN_ADDR: true }).shape,
      DBFORGE_POOL_SECRET: z.optional(z.string().check(z.minLength(32))),
      DBFORGE_POOL_LEASE_MS: defaulted(millis, 60_000),
    })
    .parse(env);
  const slot = env.DBFORGE_POOL_SLOT;
  const secret = parsed.DBFORGE_POOL_SECRET;
  return {
    slot: slot ? slot : undefined,
    engine: parsed.DBFORGE_ENGINE,
    http: secret
      ? { secret, listen: parsed.SQLD_HTTP_LISTEN_ADDR, leaseMs: parsed.DBFORGE_POOL_LEASE_MS }
      : undefined,
  };
}

/** The environment of `--check-file` (a one-shot check of an uploaded file, see ./main.ts). */
export function parseCheckEnv(env: NodeJS.ProcessEnv): {
  engine: "auto" | "pre" | "stable";
  heapLimitBytes: number;
} {
  const parsed = z.pick(EnvSchema, { DBFORGE_ENGINE: true }).parse(env);
  const heapMb = Number(env.DBFORGE_CHECK_HEAP_MB);
  return {
    engine: parsed.DBFORGE_ENGINE,
    heapLimitBytes: (Number.isInteger(heapMb) && heapMb > 0 ? heapMb : 256) * 1024 * 1024,
  };
}
