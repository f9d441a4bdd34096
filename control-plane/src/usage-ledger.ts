import { readFileSync, statSync } from "node:fs";
import {
  parseUsageSnapshot,
  USAGE_FIELDS,
  type UsageCounts,
  type UsageSnapshot,
} from "../../core/usage-file";
import type { Registry, RegistryRow } from "./registry";

/**
 * Usage per database and hour, folded in from the counters each worker writes to its database
 * directory (core/usage-file.ts). What was last seen of each worker's counters is kept beside the
 * buckets and updated in the same transaction, so a control plane restart never counts twice.
 */
export const USAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_hourly (
  database TEXT NOT NULL,
  hour INTEGER NOT NULL,
  statements INTEGER NOT NULL,
  rows_read INTEGER NOT NULL,
  rows_written INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  PRIMARY KEY (database, hour)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_seen (
  database TEXT PRIMARY KEY,
  boot TEXT NOT NULL,
  statements INTEGER NOT NULL,
  rows_read INTEGER NOT NULL,
  rows_written INTEGER NOT NULL,
  errors INTEGER NOT NULL
) STRICT`;

const HOUR_MS = 3_600_000;

const COLUMN: Record<(typeof USAGE_FIELDS)[number], string> = {
  statements: "statements",
  rowsRead: "rows_read",
  rowsWritten: "rows_written",
  errors: "errors",
};

export const zeroUsage = (): UsageCounts => ({
  statements: 0,
  rowsRead: 0,
  rowsWritten: 0,
  errors: 0,
});

/** Adds `counts` into `total` (which it returns). */
export function addUsage<T extends UsageCounts>(total: T, counts: UsageCounts): T {
  for (const field of USAGE_FIELDS) total[field] += counts[field];
  return total;
}

export class UsageLedger {
  /** The usage file's mtime at the last fold, per database: unchanged files are not read. */
  private readonly folded = new Map<string, number>();
  private readonly listeners: Array<(database: string, delta: UsageCounts) => void> = [];

  constructor(private readonly registry: Registry) {}

  /** Called with every increment folded in (metrics). */
  onUsage(listener: (database: string, delta: UsageCounts) => void): void {
    this.listeners.push(listener);
  }

  /** Adds what the worker of `database` did since the last fold (its usage file at `file`). */
  fold(database: string, file: string, now = Date.now()): void {
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      return;
    }
    if (this.folded.get(database) === mtime) return;
    let snapshot: UsageSnapshot | undefined;
    try {
      snapshot = parseUsageSnapshot(readFileSync(file, "utf8"));
    } catch {
      return;
    }
    if (!snapshot) return;
    const seen = this.registry.rows("SELECT * FROM usage_seen WHERE database = ?", [database])[0];
    const delta = zeroUsage();
    for (const field of USAGE_FIELDS) {
      const before = seen && String(seen.boot) === snapshot.boot ? Number(seen[COLUMN[field]]) : 0;
      delta[field] = Math.max(0, snapshot[field] - before);
    }
    const values = USAGE_FIELDS.map((f) => snapshot[f]);
    if (USAGE_FIELDS.some((f) => delta[f] > 0)) {
      this.registry.transaction([
        {
          sql: `INSERT INTO usage_hourly (database, hour, statements, rows_read, rows_written, errors)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (database, hour) DO UPDATE SET
                  statements = statements + excluded.statements,
                  rows_read = rows_read + excluded.rows_read,
                  rows_written = rows_written + excluded.rows_written,
                  errors = errors + excluded.errors`,
          args: [
            database,
            Math.floor(now / HOUR_MS) * HOUR_MS,
            ...USAGE_FIELDS.map((f) => delta[f]),
          ],
        },
        seenUpsert(database, snapshot.boot, values),
      ]);
      for (const listener of this.listeners) listener(database, delta);
    } else if (!seen || String(seen.boot) !== snapshot.boot) {
      const upsert = seenUpsert(database, snapshot.boot, values);
      this.registry.write(upsert.sql, upsert.args);
    }
    this.folded.set(database, mtime);
  }

  /** Hourly buckets of `database` in [from, to) (hours that saw no use are left out). */
  hours(database: string, from: number, to: number): Array<UsageCounts & { hour: number }> {
    return this.registry
      .rows(
        "SELECT * FROM usage_hourly WHERE database = ? AND hour >= ? AND hour < ? ORDER BY hour",
        [database, Math.floor(from / HOUR_MS) * HOUR_MS, to],
      )
      .map((row) => ({ hour: Number(row.hour), ...countsOf(row) }));
  }

  /** Totals per database in [from, to). */
  totals(from: number, to: number): Map<string, UsageCounts> {
    const rows = this.registry.rows(
      `SELECT database, sum(statements) AS statements, sum(rows_read) AS rows_read,
              sum(rows_written) AS rows_written, sum(errors) AS errors
       FROM usage_hourly WHERE hour >= ? AND hour < ? GROUP BY database`,
      [Math.floor(from / HOUR_MS) * HOUR_MS, to],
    );
    return new Map(rows.map((row) => [String(row.database), countsOf(row)]));
  }

  /** Forgets a deleted database's usage (a database created again under its name starts at zero). */
  forget(database: string): void {
    this.registry.transaction([
      { sql: "DELETE FROM usage_hourly WHERE database = ?", args: [database] },
      { sql: "DELETE FROM usage_seen WHERE database = ?", args: [database] },
    ]);
    this.folded.delete(database);
  }
}

function seenUpsert(database: string, boot: string, values: number[]) {
  return {
    sql: `INSERT INTO usage_seen (database, boot, statements, rows_read, rows_written, errors)
          VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (database) DO UPDATE SET boot = excluded.boot,
            statements = excluded.statements, rows_read = excluded.rows_read,
            rows_written = excluded.rows_written, errors = excluded.errors`,
    args: [database, boot, ...values],
  };
}

function countsOf(row: RegistryRow): UsageCounts {
  return {
    statements: Number(row.statements ?? 0),
    rowsRead: Number(row.rows_read ?? 0),
    rowsWritten: Number(row.rows_written ?? 0),
    errors: Number(row.errors ?? 0),
  };
}
