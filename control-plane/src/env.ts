/**
 * The control plane's configuration, parsed once from the environment.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { parseByteSize } from "../../core/byte-size";
import { QUOTA_BYTES } from "../../core/control-plane-api";
import { type ListenAddress, listenAddressSchema } from "../../core/listen-address";

const seconds = z.coerce.number().positive();
const millis = z.coerce.number().int().positive();

/** "from-to", e.g. 20000-20999, each within 1..max. */
const numberRange = (what: string, example: string, max: number) =>
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      const match = /^(\d{1,10})-(\d{1,10})$/.exec(text);
      const [from, to] = [Number(match?.[1]), Number(match?.[2])];
      if (!match || from < 1 || to > max || from > to) {
        ctx.addIssue({
          code: "custom",
          message: `expected a ${what} range like ${example}, got "${text}"`,
        });
        return z.NEVER;
      }
      return { from, to };
    });

/** A size: "1GiB", "500MB", or bytes. */
const byteSize = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const bytes = parseByteSize(text);
    if (bytes === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `invalid size "${text}" (e.g. 1GiB, 500MB, 1048576)`,
      });
      return z.NEVER;
    }
    return bytes;
  });

const portRange = numberRange("port", "20000-20999", 65535);
/** Not 0 (root), below the 32-bit "no uid" value. */
const uidRange = numberRange("uid", "200000-299999", 4_294_967_294);

const EnvSchema = z.object({
  /** Where the registry, keys and every database live. */
  DBFORGE_DATA_DIR: z.string().min(1).default("db-data"),
  /** host:port of the control plane's API (internal: the functions call it). */
  DBFORGE_CONTROL_PLANE_ADDR: z.prefault(listenAddressSchema(), "127.0.0.1:8788"),
  /** Admin token; generated into <data>/.control-plane/admin-token (0600) when unset. */
  DBFORGE_ADMIN_TOKEN: z.string().min(16).optional(),
  DBFORGE_DRIVER: z.enum(["process", "docker"]).default("process"),
  /** process driver: the bundled worker to run. */
  DBFORGE_WORKER_BUNDLE: z.string().default("dist/worker/worker.cjs"),
  /** process driver: ports for workers (default: any free port). */
  DBFORGE_WORKER_PORTS: portRange.optional(),
  /** docker driver: the worker image (ours, or ghcr.io/tursodatabase/libsql-server). */
  DBFORGE_WORKER_IMAGE: z.string().default("dbforge-worker:latest"),
  /** docker driver: attach workers to this network (compose) instead of publishing ports. */
  DBFORGE_DOCKER_NETWORK: z.string().optional(),
  /** docker driver: the data directory as the Docker host sees it (for bind mounts). */
  DBFORGE_HOST_DATA_DIR: z.string().optional(),
  DBFORGE_DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),
  /** docker driver: label workers for Traefik as <name>.<domain> (compose: db.localhost). */
  DBFORGE_TRAEFIK_DOMAIN: z.string().optional(),
  /** A worker's memory cap (SQLite heap, JS heap, and the OS limit): default for every database. */
  DBFORGE_WORKER_MEMORY_MB: z.coerce.number().int().min(128).default(512),
  /**
   * As root: the uids (gid alike) given to workers, one per database; "off" runs workers as
   * the control plane's user. Ignored when not running as root.
   */
  DBFORGE_WORKER_UIDS: z.union([z.literal("off"), uidRange]).prefault("200000-299999"),
  DBFORGE_WORKER_CPUS: z.coerce.number().positive().default(1),
  /** A database unused this long is stopped (scale to zero) and woken by its next request. */
  DBFORGE_IDLE_TIMEOUT_S: seconds.default(900),
  /** How often the control plane reads every running worker's state (exits, gone workers). */
  DBFORGE_HEALTH_INTERVAL_MS: millis.default(5000),
  /**
   * How often each running worker is also asked GET /health (a hung worker is restarted after
   * three failed probes, one a round). Docker's HEALTHCHECK default.
   */
  DBFORGE_HEALTH_PROBE_INTERVAL_MS: millis.default(30_000),
  /** Lifetime of the tokens handed to functions by resolve. */
  DBFORGE_RESOLVE_TOKEN_TTL_S: seconds.default(900),
  /**
   * After a restart, start again every database that was running, instead of on its next
   * request (the default: the control plane listens at once, whatever the number of databases).
   */
  DBFORGE_KEEP_WARM: z.enum(["true", "false"]).default("false"),
  /** Stop every worker when the control plane exits (default: yes for processes, no for Docker). */
  DBFORGE_STOP_WORKERS_ON_EXIT: z.enum(["true", "false"]).optional(),
  /** Failed authentications a client may make in a row before it gets 429. */
  DBFORGE_AUTH_FAILURE_BURST: z.coerce.number().int().positive().default(20),
  /** Failed authentications a minute a client may make in the long run. */
  DBFORGE_AUTH_FAILURES_PER_MINUTE: z.coerce.number().positive().default(30),
  /**
   * Peers whose X-DBForge-Client-Address header names the client they act for (the functions
   * host). Loopback is always trusted; add the functions' address when they run elsewhere.
   */
  DBFORGE_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((text) =>
      text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /**
   * Process driver: workers kept started without a database, so that a start (create, wake)
   * only opens the database (a cold start of ~10 ms instead of ~200). 0: none.
   */
  DBFORGE_WORKER_POOL: z.coerce.number().int().min(0).max(64).default(2),
  /**
   * Docker driver: containers kept started without a database (our image only; not with a
   * network or Traefik labels), so that a start (create, wake) skips `docker start` (~200–400
   * ms). Off by default: a pooled container's labels name its slot, not its database (its
   * name does), and each one costs a running worker's memory. 0: none.
   */
  DBFORGE_DOCKER_POOL: z.coerce.number().int().min(0).max(64).default(0),
  /** Docker pool: an unclaimed container whose control plane is gone exits after this long. */
  DBFORGE_DOCKER_POOL_LEASE_S: z.coerce.number().int().min(2).max(3600).default(60),
  /** The libSQL binding of the registry and of every process worker: auto, pre or stable. */
  DBFORGE_ENGINE: z.enum(["auto", "pre", "stable"]).default("auto"),
  /** Passed to every worker (see workers-image). */
  DBFORGE_QUERY_TIMEOUT_MS: millis.optional(),
  /** Quota of a database created without one; each database can have its own (PATCH). */
  DBFORGE_DEFAULT_QUOTA: byteSize
    .pipe(z.number().int().min(QUOTA_BYTES.min).max(QUOTA_BYTES.max))
    .default(1024 ** 3),
  /** The request log's level (pino levels; silent: none); passed to workers too. */
  DBFORGE_LOG_LEVEL: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
    .default("info"),
  /** Passed to every worker: how often it writes its usage counters. */
  DBFORGE_USAGE_FLUSH_MS: millis.optional(),
  /** How often the usage workers write is folded into the registry's hourly buckets. */
  DBFORGE_USAGE_INTERVAL_MS: millis.default(5000),
  /** A bearer token that may read /metrics and nothing else (for a Prometheus scraper). */
  DBFORGE_METRICS_TOKEN: z.string().min(16).optional(),
  /** Databases named in per-database metrics; the rest are summed as database="_other". */
  DBFORGE_METRICS_MAX_DATABASES: z.coerce.number().int().min(0).max(10_000).default(100),
  /** on: workers archive their WAL and databases are backed up (point-in-time restore). */
  DBFORGE_BACKUPS: z.enum(["on", "off"]).default("on"),
  /** The local backup target (when no S3 bucket is set); default <data dir>/.backups. */
  DBFORGE_BACKUP_DIR: z.string().min(1).optional(),
  /** The AES-256 backup key: 64 hex digits or base64 of 32 bytes; or a file holding it. */
  DBFORGE_BACKUP_KEY: z.string().min(1).optional(),
  DBFORGE_BACKUP_KEY_FILE: z.string().min(1).optional(),
  /** Backups go to this S3-compatible bucket instead of the local directory. */
  DBFORGE_BACKUP_S3_BUCKET: z.string().min(1).optional(),
  DBFORGE_BACKUP_S3_ENDPOINT: z.url().optional(),
  DBFORGE_BACKUP_S3_REGION: z.string().min(1).default("us-east-1"),
  DBFORGE_BACKUP_S3_PREFIX: z.string().default(""),
  DBFORGE_BACKUP_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  DBFORGE_BACKUP_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style URLs (MinIO, s3rver, most self-hosted servers); default: on with an endpoint. */
  DBFORGE_BACKUP_S3_FORCE_PATH_STYLE: z.enum(["true", "false"]).optional(),
  /** Defaults of every database's schedule: a new backup this often (seconds) … */
  DBFORGE_BACKUP_INTERVAL_S: z.coerce.number().int().min(1).default(86_400),
  /** … at most this many kept … */
  DBFORGE_BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(30),
  /** … none older than this (seconds): the point-in-time window. */
  DBFORGE_BACKUP_MAX_AGE_S: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 86_400),
  /** How often finished archive segments and new backups are shipped to the target. */
  DBFORGE_BACKUP_SHIP_INTERVAL_MS: millis.default(5000),
  /** Passed to every worker: an archive segment closes (and ships) after this long. */
  DBFORGE_WAL_SEGMENT_MS: millis.optional(),
});

export type ControlPlaneConfig = z.output<typeof EnvSchema> & {
  dataDir: string;
  stopWorkersOnExit: boolean;
  listen: ListenAddress;
};

export function parseEnv(env: NodeJS.ProcessEnv): ControlPlaneConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid control plane configuration:\n  ${issues.join("\n  ")}`);
  }
  const config = parsed.data;
  return {
    ...config,
    dataDir: resolve(config.DBFORGE_DATA_DIR),
    stopWorkersOnExit:
      (config.DBFORGE_STOP_WORKERS_ON_EXIT ?? String(config.DBFORGE_DRIVER === "process")) ===
      "true",
    listen: config.DBFORGE_CONTROL_PLANE_ADDR,
  };
}
