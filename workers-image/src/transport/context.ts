import type { Authenticator } from "../auth/authenticator";
import type { Database } from "../engine/database";
import type { ResponseLimits } from "../engine/limits";
import type { HttpStreams } from "../hrana/http-streams";
import type { StoredSqlBudget } from "../hrana/sql-store";

/** What the transports share: the database, its streams, limits and credentials. */
export interface WorkerContext {
  db: Database;
  streams: HttpStreams;
  limits: ResponseLimits;
  /** The worker's budget for stored SQL texts (HTTP streams and WebSockets together). */
  storedSql: StoredSqlBudget;
  authenticator: Authenticator;
  maxBodyBytes: number;
  /** The body of GET /version. */
  version: string;
  isHealthy(): boolean;
  /**
   * After each request a client was answered for, on any transport (HTTP, WebSocket): what it
   * wrote is archived now, not at the archiver's next unasked look.
   */
  afterRequest(): void;
}
