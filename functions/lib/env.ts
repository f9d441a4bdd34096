import { z } from "zod";

/**
 * The functions' configuration, from their bindings: Worker vars under Miniflare and wrangler,
 * process.env in the Node host. Parsed once per bindings object, at the boundary.
 */
const EnvSchema = z.object({
  /** The control plane's API, e.g. http://127.0.0.1:8788. */
  CONTROL_PLANE_URL: z.url(),
  /** Public base URL for URLs handed to users (tokens' `url`); default: the request's origin. */
  DBFORGE_PUBLIC_URL: z.url().optional(),
  /** How long a resolved worker URL and token are reused. */
  RESOLVE_CACHE_MS: z.coerce.number().int().min(0).default(30_000),
  /** Failed authentications a client may make in a row before it gets 429. */
  AUTH_FAILURE_BURST: z.coerce.number().int().positive().default(20),
  /** Failed authentications a minute a client may make in the long run. */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().positive().default(30),
  /** Requests a second per credential (bearer token) in the long run; 0: no limit. */
  RATE_LIMIT_PER_CREDENTIAL: z.coerce.number().min(0).default(100),
  /** Requests per credential in a burst (the bucket's size). */
  RATE_LIMIT_CREDENTIAL_BURST: z.coerce.number().int().positive().default(200),
  /** Requests a second per database on its data routes (REST and /db/{name}/); 0: no limit. */
  RATE_LIMIT_PER_DATABASE: z.coerce.number().min(0).default(250),
  /** Requests per database in a burst. */
  RATE_LIMIT_DATABASE_BURST: z.coerce.number().int().positive().default(500),
  /** The Node host's request log: one JSON line per request at info (pino levels; silent: none). */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** Largest SQL dump POST /admin/databases/{name}/import takes (streamed, never held whole). */
  IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 ** 3),
  /**
   * The Node host's fast lane for libSQL pipelines (functions/host/proxy-lane.ts); off: every
   * request takes the full path. Other runtimes have no lane.
   */
  FAST_LANE: z.enum(["on", "off"]).default("on"),
  /** Largest request body accepted by the REST API. */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
});

export type FunctionsConfig = z.output<typeof EnvSchema>;

/** The names of the functions' settings (what a Node host copies from its environment). */
export const FUNCTIONS_SETTINGS = Object.keys(EnvSchema.shape) as Array<keyof FunctionsConfig>;

const parsed = new WeakMap<object, FunctionsConfig>();

export function functionsConfig(bindings: unknown): FunctionsConfig {
  const source = (typeof bindings === "object" && bindings !== null ? bindings : {}) as Record<
    string,
    unknown
  >;
  let config = parsed.get(source);
  if (!config) {
    const result = EnvSchema.safeParse(source);
    if (!result.success) {
      const issues = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      throw new Error(`invalid functions configuration: ${issues}`);
    }
    config = result.data;
    parsed.set(source, config);
  }
  return config;
}
