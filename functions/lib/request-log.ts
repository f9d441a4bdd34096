import type { Context } from "hono";
import { sqlHash } from "../../core/sql-hash";

/**
 * What a route knows about its request that the host's log line should carry (the SQL's hash,
 * rows, statements). The Node host registers a note for each request before dispatching it and
 * logs it when the response is ready; elsewhere (Workers) nobody registers one and noting is
 * free. Never SQL text or values: only their hash and counts.
 */
export interface RequestNote {
  sqlHash?: string;
  statements?: number;
  rows?: number;
}

const notes = new WeakMap<Request, RequestNote>();

/** The host's side: a note for `request`, filled in by the route that serves it. */
export function openNote(request: Request): RequestNote {
  const note: RequestNote = {};
  notes.set(request, note);
  return note;
}

/** The route's side, before running: the SQL texts it runs, in order (failures log them too). */
export function noteSql(c: Context, sql: readonly string[]): void {
  const note = notes.get(c.req.raw);
  if (!note) return;
  note.statements = sql.length;
  if (sql.length > 0) note.sqlHash = sqlHash(sql.join("\u0000"));
}

/** The route's side, after running: how many rows came back. */
export function noteRows(c: Context, rows: number): void {
  const note = notes.get(c.req.raw);
  if (note) note.rows = rows;
}
