import type { NativeValue } from "../../core/sqlite";
import type { Registry, RegistryRow } from "./registry";

/**
 * The audit log: append-only in the registry. Triggers refuse every UPDATE and DELETE, so no
 * code path (nor a later bug) can rewrite history; entries leave only with the registry file.
 */
export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  database TEXT,
  client TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS audit_log_database ON audit_log (database, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, id);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`;

export const AUDIT_ACTIONS = [
  "database.create",
  "database.delete",
  "database.update",
  "database.import",
  "database.restore",
  "database.fork",
  "backup.create",
  "backup.delete",
  "token.mint",
  "tokens.revoke",
  "key.create",
  "key.revoke",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: number;
  at: number;
  /** The API key's id, or "admin" for the bootstrap admin token. */
  actor: string;
  action: AuditAction;
  database: string | null;
  /** The client's address, as the control plane saw it (forwarded by the functions). */
  client: string;
  /** "ok", or the error code the action ended with (FORBIDDEN for a refused one). */
  outcome: string;
  /** What the action was given (never a secret), e.g. a token's access and lifetime. */
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  database?: string;
  actor?: string;
  /** Unix milliseconds, inclusive. */
  from?: number;
  to?: number;
  limit: number;
  /** Entries older than this id (the previous page's `nextCursor`). */
  before?: number;
}

export class AuditLog {
  constructor(private readonly registry: Registry) {}

  record(entry: Omit<AuditEntry, "id" | "at">, at = Date.now()): void {
    this.registry.write(
      "INSERT INTO audit_log (at, actor, action, database, client, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [
        at,
        entry.actor,
        entry.action,
        entry.database,
        entry.client,
        entry.outcome,
        entry.detail === null ? null : JSON.stringify(entry.detail),
      ],
    );
  }

  /** Newest first; `nextCursor` is set when older entries remain. */
  query(q: AuditQuery): { entries: AuditEntry[]; nextCursor: string | null } {
    const where: string[] = [];
    const args: NativeValue[] = [];
    const add = (clause: string, value: NativeValue | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add("database = ?", q.database);
    add("actor = ?", q.actor);
    add("at >= ?", q.from);
    add("at <= ?", q.to);
    add("id < ?", q.before);
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    const rows = this.registry.rows(sql, [...args, q.limit + 1]);
    const entries = rows.slice(0, q.limit).map(toEntry);
    const last = entries.at(-1);
    return {
      entries,
      nextCursor: rows.length > q.limit && last ? String(last.id) : null,
    };
  }
}

function toEntry(row: RegistryRow): AuditEntry {
  return {
    id: Number(row.id),
    at: Number(row.at),
    actor: String(row.actor),
    action: String(row.action) as AuditAction,
    database: row.database === null ? null : String(row.database),
    client: String(row.client),
    outcome: String(row.outcome),
    detail:
      row.detail === null ? null : (JSON.parse(String(row.detail)) as Record<string, unknown>),
  };
}
