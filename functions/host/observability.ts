import type { Logger } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import { collectProcessMetrics } from "../../core/prometheus";
import type { RequestNote } from "../lib/request-log";
import type { RouteSpec } from "../route-table";

/** The database a request is about, from its path (data and admin routes). */
const DATABASE_PATH = /^\/(?:api\/db|db|admin\/databases)\/([^/]+)/;

/**
 * The Node host's metrics (prom-client, a registry of its own) and its request log (pino, one
 * JSON line per request): route pattern, status, error code, duration, database, credential
 * kind and key id, and what the route noted (SQL hash, statements, rows). Credentials, SQL and
 * values are never logged.
 */
export class HostObservability {
  readonly registry = new Registry();

  private readonly duration = new Histogram({
    name: "dbforge_functions_request_duration_seconds",
    help: "Functions request duration by route",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly responses = new Counter({
    name: "dbforge_functions_responses_total",
    help: "Functions responses by route, status and error code",
    labelNames: ["route", "status", "code"] as const,
    registers: [this.registry],
  });

  private readonly fastLane = new Counter({
    name: "dbforge_functions_fast_lane_requests_total",
    help: "libSQL proxy pipelines answered by the Node host's fast lane (./proxy-lane.ts)",
    registers: [this.registry],
  });

  constructor(private readonly log: Logger) {
    collectProcessMetrics(this.registry, "dbforge_functions_");
  }

  /** One more request answered by the fast lane (besides its observe()). */
  tookFastLane(): void {
    this.fastLane.inc();
  }

  /** Records one answered request. */
  observe(options: {
    method: string;
    /** The request's path, as sent (no query). */
    path: string;
    authorization: string | null | undefined;
    spec: RouteSpec | undefined;
    status: number;
    /** The answer's error code (its ERROR_CODE_HEADER), if any. */
    code: string | null | undefined;
    startedAt: number;
    note: RequestNote;
    requestId: string;
  }): void {
    const { method, spec, status, note } = options;
    const seconds = (performance.now() - options.startedAt) / 1000;
    // The manifest's pattern, not the path: one series per route, whatever the names in it.
    const route = spec?.path ?? "unmatched";
    const code = options.code ?? "";
    this.duration.observe({ method, route, status: String(status) }, seconds);
    this.responses.inc({ route, status: String(status), code });
    if (!this.log.isLevelEnabled(status >= 500 ? "error" : "info")) return;
    const fields = {
      reqId: options.requestId,
      method,
      route,
      status,
      ...(code ? { code } : {}),
      durationMs: Math.round(seconds * 100_000) / 100,
      ...databaseOf(options.path),
      ...credentialOf(options.authorization),
      ...note,
    };
    if (status >= 500) this.log.error(fields, "request");
    else this.log.info(fields, "request");
  }
}

function databaseOf(path: string): { database?: string } {
  const name = DATABASE_PATH.exec(path)?.[1];
  return name && name !== "spawn" && name !== "prune" ? { database: decodeURIComponent(name) } : {};
}

/** What kind of credential it was, and an API key's public id; never the secret. */
function credentialOf(authorization: string | null | undefined): {
  credential?: string;
  keyId?: string;
} {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token) return {};
  const key = /^dbfk_([a-z0-9]{12})_/.exec(token);
  if (key) return { credential: "api-key", keyId: key[1] as string };
  return { credential: token.split(".").length === 3 ? "jwt" : "token" };
}
