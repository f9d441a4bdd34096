import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DatabaseInfo } from "../../core/control-plane-api";
import { collectProcessMetrics } from "../../core/prometheus";
import type { UsageCounts } from "../../core/usage-file";

/** Databases named in per-database series; the rest are summed under database="_other". */
export const DEFAULT_MAX_DATABASE_LABELS = 100;

/** Running databases that served a request this recently count as active, the rest as idle. */
const ACTIVE_WINDOW_MS = 60_000;

/**
 * The control plane's Prometheus metrics (prom-client), on a registry of its own so that two
 * control planes in one process (tests) do not share series.
 */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly labelled = new Set<string>();

  readonly requestDuration = new Histogram({
    name: "dbforge_control_plane_request_duration_seconds",
    help: "Control plane request duration by route",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly responses = new Counter({
    name: "dbforge_control_plane_responses_total",
    help: "Control plane responses by route, status and error code",
    labelNames: ["route", "status", "code"] as const,
    registers: [this.registry],
  });

  readonly workerStarts = new Counter({
    name: "dbforge_worker_starts_total",
    help: "Workers started, by cause (create, wake: a cold start, restart: after a crash)",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });

  readonly workerStartSeconds = new Histogram({
    name: "dbforge_worker_start_seconds",
    help: "Time from starting a worker to its first healthy answer",
    labelNames: ["cause"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  private readonly usage = {
    statements: this.databaseCounter("statements", "SQL statements run"),
    rowsRead: this.databaseCounter("rows_read", "Rows returned by statements"),
    rowsWritten: this.databaseCounter("rows_written", "Rows changed by statements"),
    errors: this.databaseCounter("errors", "Statements that failed"),
  };

  constructor(
    databases: () => DatabaseInfo[],
    private readonly maxDatabaseLabels = DEFAULT_MAX_DATABASE_LABELS,
  ) {
    collectProcessMetrics(this.registry, "dbforge_control_plane_");
    const labelOf = (name: string) => this.databaseLabel(name);
    new Gauge({
      name: "dbforge_workers",
      help: "Databases by worker state: active (served within a minute), idle, stopped, creating, deleting",
      labelNames: ["state"] as const,
      registers: [this.registry],
      collect() {
        const counts: Record<string, number> = {
          active: 0,
          idle: 0,
          stopped: 0,
          creating: 0,
          deleting: 0,
        };
        const now = Date.now();
        for (const db of databases()) {
          const state =
            db.status === "running"
              ? now - Date.parse(db.lastActiveAt) < ACTIVE_WINDOW_MS
                ? "active"
                : "idle"
              : db.status;
          counts[state] = (counts[state] ?? 0) + 1;
        }
        this.reset();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "dbforge_database_size_bytes",
      help: "Size of each database (file, WAL and shared memory)",
      labelNames: ["database"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const sizes = new Map<string, number>();
        for (const db of databases()) {
          const label = labelOf(db.name);
          sizes.set(label, (sizes.get(label) ?? 0) + db.sizeBytes);
        }
        for (const [database, bytes] of sizes) this.set({ database }, bytes);
      },
    });
  }

  /** Folded-in usage of one database (see UsageLedger.onUsage). */
  recordUsage(database: string, delta: UsageCounts): void {
    const label = { database: this.databaseLabel(database) };
    for (const field of ["statements", "rowsRead", "rowsWritten", "errors"] as const) {
      if (delta[field] > 0) this.usage[field].inc(label, delta[field]);
    }
  }

  recordStart(cause: "create" | "wake" | "restart", ms: number): void {
    this.workerStarts.inc({ cause });
    this.workerStartSeconds.observe({ cause }, ms / 1000);
  }

  /** The database's own label while fewer than the cap have one, else "_other". */
  private databaseLabel(name: string): string {
    if (this.labelled.has(name)) return name;
    if (this.labelled.size < this.maxDatabaseLabels) {
      this.labelled.add(name);
      return name;
    }
    return "_other";
  }

  private databaseCounter(name: string, help: string) {
    return new Counter({
      name: `dbforge_database_${name}_total`,
      help: `${help}, per database`,
      labelNames: ["database"] as const,
      registers: [this.registry],
    });
  }
}
