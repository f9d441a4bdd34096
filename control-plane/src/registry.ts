import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { DatabaseStatus } from "../../core/control-plane-api";
import { DiskReserve, isDiskFull } from "../../core/disk-reserve";
import { DomainError } from "../../core/errors";
import {
  type NativeDatabase,
  type NativeStatement,
  type NativeValue,
  openNative,
} from "../../core/sqlite";

export interface DatabaseRecord {
  name: string;
  status: DatabaseStatus;
  createdAt: number;
  lastActiveAt: number;
  /** Container id or process id of the current worker. */
  workerId: string | null;
  /** The worker's Hrana base URL, as the control plane and functions reach it. */
  url: string | null;
  restarts: number;
  lastError: string | null;
  /**
   * Random salt of the database's signing key, made at creation and replaced by a revoke: a
   * re-created database, or the same one after a revoke, never accepts an older token. Null for
   * databases registered before salts existed (their key derives from the name alone).
   */
  keySalt: string | null;
  /** When DB-Forge runs as root: the uid (and gid) of the database's own worker user. */
  uid: number | null;
  /** The worker's memory cap in MiB; null: the configured default. */
  memoryMb: number | null;
  /** Largest size of the database file in bytes; null: the configured default. */
  quotaBytes: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS databases (
  name TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_active_at INTEGER NOT NULL,
  worker_id TEXT,
  url TEXT,
  restarts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  key_salt TEXT,
  uid INTEGER,
  memory_mb INTEGER,
  quota_bytes INTEGER
) STRICT`;

/** Columns added after the first release, for registries created before them. */
const ADDED_COLUMNS: Record<string, string> = {
  key_salt: "ALTER TABLE databases ADD COLUMN key_salt TEXT",
  uid: "ALTER TABLE databases ADD COLUMN uid INTEGER",
  memory_mb: "ALTER TABLE databases ADD COLUMN memory_mb INTEGER",
  quota_bytes: "ALTER TABLE databases ADD COLUMN quota_bytes INTEGER",
};

/** A row as the registry's own tables hold it (see Registry.rows). */
export type RegistryRow = Record<string, NativeValue>;

/** Room kept for the registry's own writes on a full disk (a few thousand row changes). */
const REGISTRY_RESERVE_BYTES = 1024 * 1024;

/** The registry of databases: a SQLite file of its own, on the engine the workers use. */
export class Registry {
  private readonly db: NativeDatabase;
  private readonly reserve: DiskReserve;
  /**
   * Reads prepared once, with their column names (preparing and naming columns cost ~100 µs a
   * call, paid on every resolve). Every schema change happens in the constructor, before any.
   */
  private readonly reads = new Map<string, { stmt: NativeStatement; columns: string[] }>();

  /**
   * `schemas`: DDL of the tables other stores keep in the registry (API keys, the audit log,
   * usage), each run once at open (CREATE ... IF NOT EXISTS).
   */
  constructor(path: string, schemas: readonly string[] = []) {
    mkdirSync(dirname(path), { recursive: true });
    this.reserve = new DiskReserve(`${path}.reserve`, REGISTRY_RESERVE_BYTES);
    this.reserve.ensure();
    this.db = openNative(path, 10_000);
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec(SCHEMA);
    const existing = new Set(
      [
        ...this.db.prepare("SELECT name FROM pragma_table_info('databases')").raw(true).iterate(),
      ].map((row) => String(row[0])),
    );
    // Registries before 0.2 called the status "state" (the API always said "status").
    if (existing.has("state")) this.db.exec("ALTER TABLE databases RENAME COLUMN state TO status");
    for (const [column, ddl] of Object.entries(ADDED_COLUMNS)) {
      if (!existing.has(column)) this.db.exec(ddl);
    }
    for (const ddl of schemas) this.db.exec(ddl);
  }

  /** Registers a new database with status "creating"; false if the name is taken. */
  insert(
    name: string,
    fields: {
      keySalt: string;
      uid: number | null;
      memoryMb: number | null;
      quotaBytes: number | null;
    },
    now = Date.now(),
  ): boolean {
    const run = this.run(
      "INSERT INTO databases (name, status, created_at, last_active_at, key_salt, uid, memory_mb, quota_bytes) VALUES (?, 'creating', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [name, now, now, fields.keySalt, fields.uid, fields.memoryMb, fields.quotaBytes],
      { useReserve: false },
    );
    return run.changes === 1;
  }

  /** uids taken by registered databases (to hand out a free one). */
  usedUids(): Set<number> {
    const rows = this.db.prepare("SELECT uid FROM databases WHERE uid IS NOT NULL").raw(true);
    return new Set([...rows.iterate()].map((row) => Number(row[0])));
  }

  get(name: string): DatabaseRecord | undefined {
    // One native call (`get`), not the row iterator's three: asked for every database on
    // every round of the health, usage and backup loops, and on every resolve.
    const { stmt, columns } = this.read("SELECT * FROM databases WHERE name = ?");
    const row = stmt.get([name]);
    return row && toRecord(columns, row);
  }

  list(): DatabaseRecord[] {
    return this.query("SELECT * FROM databases ORDER BY name", []);
  }

  update(
    name: string,
    fields: Partial<
      Pick<
        DatabaseRecord,
        | "status"
        | "workerId"
        | "url"
        | "lastError"
        | "lastActiveAt"
        | "restarts"
        | "keySalt"
        | "quotaBytes"
      >
    >,
  ): void {
    const columns: Record<string, string> = {
      status: "status",
      workerId: "worker_id",
      url: "url",
      lastError: "last_error",
      lastActiveAt: "last_active_at",
      restarts: "restarts",
      keySalt: "key_salt",
      quotaBytes: "quota_bytes",
    };
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${columns[k]} = ?`).join(", ");
    this.run(`UPDATE databases SET ${sets} WHERE name = ?`, [
      ...entries.map(([, v]) => v as NativeValue),
      name,
    ]);
  }

  /**
   * Records use of a database (lastActiveAt). Best effort: on a full disk it is skipped rather
   * than failing the request that uses the database, and it never takes the reserve.
   */
  touch(name: string, now = Date.now()): void {
    try {
      this.run("UPDATE databases SET last_active_at = ? WHERE name = ?", [now, name], {
        useReserve: false,
      });
    } catch (err) {
      if (!(err instanceof DomainError && err.code === "DISK_FULL")) throw err;
    }
  }

  delete(name: string): void {
    this.run("DELETE FROM databases WHERE name = ?", [name]);
  }

  close(): void {
    this.reads.clear();
    this.db.close();
  }

  /**
   * A write to one of the other stores' tables (see `schemas`); the number of rows changed. It
   * never takes the disk reserve: that is kept for the writes that free space (a delete).
   */
  write(sql: string, args: NativeValue[] = []): number {
    return Number(this.run(sql, args, { useReserve: false }).changes);
  }

  /** Several writes as one transaction: all of them or none. */
  transaction(writes: Array<{ sql: string; args: NativeValue[] }>): void {
    const noReserve = { useReserve: false };
    this.run("BEGIN IMMEDIATE", [], noReserve);
    try {
      for (const { sql, args } of writes) this.run(sql, args, noReserve);
      this.run("COMMIT", [], noReserve);
    } catch (err) {
      if (!this.db.inTransaction) throw err;
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  /** Rows of one of the other stores' tables, as column -> value objects. */
  rows(sql: string, args: NativeValue[] = []): RegistryRow[] {
    const { stmt, columns } = this.read(sql);
    return [...stmt.iterate(args.map(bind))].map((row) =>
      Object.fromEntries(columns.map((c, i) => [c, row[i] as NativeValue])),
    );
  }

  /**
   * A write. On a full disk the reserve is given back and the write tried once more, so the
   * registry can always record a delete (which then frees the database's space); a write that
   * still does not fit is DISK_FULL. New databases never use the reserve.
   */
  private run(sql: string, args: NativeValue[], { useReserve = true } = {}) {
    const bound = args.map(bind);
    try {
      const result = this.db.prepare(sql).run(bound);
      this.reserve.ensure();
      return result;
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (useReserve && this.reserve.release()) {
        try {
          return this.db.prepare(sql).run(bound);
        } catch (again) {
          if (!isDiskFull(again)) throw again;
        }
      }
      throw new DomainError("DISK_FULL", "Not enough disk space to update the registry");
    }
  }

  private read(sql: string): { stmt: NativeStatement; columns: string[] } {
    let read = this.reads.get(sql);
    if (!read) {
      const stmt = this.db.prepare(sql);
      read = { stmt, columns: stmt.columns().map((c) => c.name) };
      stmt.raw(true);
      this.reads.set(sql, read);
    }
    return read;
  }

  private query(sql: string, args: NativeValue[]): DatabaseRecord[] {
    const { stmt, columns } = this.read(sql);
    return [...stmt.iterate(args)].map((row) => toRecord(columns, row));
  }
}

/** JS numbers would bind as REAL; the registry's numbers are all integers. */
function bind(value: NativeValue): NativeValue {
  return typeof value === "number" ? BigInt(Math.trunc(value)) : value;
}

/** A `databases` row, read raw with its column names, as a record. */
function toRecord(columns: string[], row: NativeValue[]): DatabaseRecord {
  const r = Object.fromEntries(columns.map((c, i) => [c, row[i]])) as Record<string, NativeValue>;
  return {
    name: String(r.name),
    status: String(r.status) as DatabaseStatus,
    createdAt: Number(r.created_at),
    lastActiveAt: Number(r.last_active_at),
    workerId: r.worker_id === null ? null : String(r.worker_id),
    url: r.url === null ? null : String(r.url),
    restarts: Number(r.restarts),
    lastError: r.last_error === null ? null : String(r.last_error),
    keySalt: r.key_salt === null || r.key_salt === undefined ? null : String(r.key_salt),
    uid: r.uid === null || r.uid === undefined ? null : Number(r.uid),
    memoryMb: r.memory_mb === null || r.memory_mb === undefined ? null : Number(r.memory_mb),
    quotaBytes:
      r.quota_bytes === null || r.quota_bytes === undefined ? null : Number(r.quota_bytes),
  };
}
