import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  type NativeDatabase,
  type NativeValue,
  openNative,
} from "../../workers-image/src/engine/native";

/**
 * Lifecycle states of a database:
 * - creating: registered, worker being started (a crash here is cleaned up on the next start)
 * - running: the worker should be up; the health loop restarts it if it is not
 * - stopped: stopped when idle (scale to zero); the next resolve starts it
 * - deleting: being removed (a crash here is finished on the next start)
 */
export type DatabaseState = "creating" | "running" | "stopped" | "deleting";

export interface DatabaseRecord {
  name: string;
  state: DatabaseState;
  createdAt: number;
  lastActiveAt: number;
  /** Container id or process id of the current worker. */
  workerId: string | null;
  /** The worker's Hrana base URL, as the control plane and functions reach it. */
  url: string | null;
  restarts: number;
  lastError: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS databases (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_active_at INTEGER NOT NULL,
  worker_id TEXT,
  url TEXT,
  restarts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
) STRICT`;

/** The registry of databases: a SQLite file of its own, on the engine the workers use. */
export class Registry {
  private readonly db: NativeDatabase;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = openNative(path, 10_000);
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec(SCHEMA);
  }

  /** Registers a new database in state "creating"; false if the name is taken. */
  insert(name: string, now = Date.now()): boolean {
    const run = this.run(
      "INSERT INTO databases (name, state, created_at, last_active_at) VALUES (?, 'creating', ?, ?) ON CONFLICT DO NOTHING",
      [name, now, now],
    );
    return run.changes === 1;
  }

  get(name: string): DatabaseRecord | undefined {
    return this.query("SELECT * FROM databases WHERE name = ?", [name])[0];
  }

  list(): DatabaseRecord[] {
    return this.query("SELECT * FROM databases ORDER BY name", []);
  }

  update(
    name: string,
    fields: Partial<
      Pick<DatabaseRecord, "state" | "workerId" | "url" | "lastError" | "lastActiveAt" | "restarts">
    >,
  ): void {
    const columns: Record<string, string> = {
      state: "state",
      workerId: "worker_id",
      url: "url",
      lastError: "last_error",
      lastActiveAt: "last_active_at",
      restarts: "restarts",
    };
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${columns[k]} = ?`).join(", ");
    this.run(`UPDATE databases SET ${sets} WHERE name = ?`, [
      ...entries.map(([, v]) => v as NativeValue),
      name,
    ]);
  }

  delete(name: string): void {
    this.run("DELETE FROM databases WHERE name = ?", [name]);
  }

  close(): void {
    this.db.close();
  }

  private run(sql: string, args: NativeValue[]) {
    // JS numbers would bind as REAL; the registry's numbers are all integers.
    return this.db.prepare(sql).run(args.map((a) => (typeof a === "number" ? BigInt(a) : a)));
  }

  private query(sql: string, args: NativeValue[]): DatabaseRecord[] {
    const stmt = this.db.prepare(sql);
    const columns = stmt.columns().map((c) => c.name);
    stmt.raw(true);
    return [...stmt.iterate(args)].map((row) => {
      const r = Object.fromEntries(columns.map((c, i) => [c, row[i]])) as Record<
        string,
        NativeValue
      >;
      return {
        name: String(r.name),
        state: String(r.state) as DatabaseState,
        createdAt: Number(r.created_at),
        lastActiveAt: Number(r.last_active_at),
        workerId: r.worker_id === null ? null : String(r.worker_id),
        url: r.url === null ? null : String(r.url),
        restarts: Number(r.restarts),
        lastError: r.last_error === null ? null : String(r.last_error),
      };
    });
  }
}
