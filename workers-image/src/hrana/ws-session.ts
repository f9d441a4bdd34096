import type { Access } from "../../../core/jwt";
import { AuthError } from "../../../core/jwt";
import type { Authenticator } from "../auth/authenticator";
import type { Database } from "../engine/database";
import { SqlError } from "../engine/errors";
import type { ResponseLimits } from "../engine/limits";
import { log } from "../log";
import { decodeClientMsg } from "./decode";
import { ProtocolError, ResponseError } from "./errors";
import type * as proto from "./proto";
import { type SqlStore, type StoredSqlBudget, wsSqlStore } from "./sql-store";
import { errorOf, HranaStream } from "./stream";

/** What a session needs from its socket. */
export interface WsPeer {
  send(msg: proto.ServerMsg): void;
  close(code: number, reason: string): void;
}

export interface WsSessionDeps {
  db: Database;
  authenticator: Authenticator;
  limits: ResponseLimits;
  storedSql: StoredSqlBudget;
}

interface Cursor {
  streamId: number;
  entries: Promise<proto.CursorEntry[]>;
  position: number;
}

/**
 * Hrana over WebSocket (hrana1-3, JSON), independent of the socket library. Streams execute
 * their requests in order, but different streams proceed independently, so a stream waiting for
 * the write lock never holds up the stream that will release it.
 */
export class WsSession {
  /** Undefined until a hello succeeds; a later hello (v2+) replaces it. */
  private access: Access | undefined;
  private readonly store: SqlStore;
  private readonly streams = new Map<number, HranaStream>();
  private readonly cursors = new Map<number, Cursor>();
  private closed = false;

  constructor(
    private readonly version: proto.Version,
    private readonly deps: WsSessionDeps,
    private readonly peer: WsPeer,
  ) {
    this.store = wsSqlStore(deps.storedSql);
  }

  handleText(text: string): void {
    if (this.closed) return;
    try {
      const msg = decodeClientMsg(text, this.version);
      if (msg.type === "hello") this.hello(msg.jwt);
      else if (this.access === undefined) {
        throw new ProtocolError("Received a request before hello message");
      } else this.request(msg.requestId, msg.request, this.access);
    } catch (err) {
      this.fail(err);
    }
  }

  handleBinary(): void {
    this.fail(
      new ProtocolError(
        "Received a binary WebSocket message, which is not supported in this encoding",
        1003,
      ),
    );
  }

  /** The socket is gone: close every stream, rolling back open transactions. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.close();
    this.store.clear();
    this.streams.clear();
    this.cursors.clear();
  }

  private hello(jwt: string | null): void {
    if (this.access !== undefined && this.version < 2) {
      throw ProtocolError.notSupported("Repeated hello message", 2);
    }
    try {
      this.access = this.deps.authenticator.fromJwt(jwt);
      this.peer.send({ type: "hello_ok" });
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      this.peer.send({
        type: "hello_error",
        error: { message: `Authentication failed: ${err.message}`, code: err.code },
      });
      this.closeWith(1000, "Authentication failed");
    }
  }

  private request(requestId: number, req: proto.WsRequest, access: Access): void {
    const respond = (response: proto.WsResponse) =>
      this.send({ type: "response_ok", request_id: requestId, response });
    switch (req.type) {
      case "open_stream":
        if (this.streams.has(req.streamId)) {
          throw new ProtocolError(`Stream ${req.streamId} already exists`);
        }
        this.streams.set(req.streamId, new HranaStream(this.deps.db, this.store));
        respond({ type: "open_stream" });
        break;
      case "close_stream":
        this.closeStream(req.streamId, () => respond({ type: "close_stream" }));
        break;
      case "store_sql":
      case "close_sql":
        try {
          if (req.type === "store_sql") this.store.store(req.sqlId, req.sql);
          else this.store.close(req.sqlId);
          respond({ type: req.type });
        } catch (err) {
          if (!(err instanceof ResponseError)) throw err;
          this.send({ type: "response_error", request_id: requestId, error: errorOf(err) });
        }
        break;
      case "open_cursor":
        this.openCursor(req, access, () => respond({ type: "open_cursor" }));
        break;
      case "fetch_cursor":
        this.fetchCursor(requestId, req.cursorId, req.maxCount, respond);
        break;
      case "close_cursor":
        this.cursors.delete(req.cursorId);
        respond({ type: "close_cursor" });
        break;
      default:
        this.streamRequest(requestId, req, access, respond);
    }
  }

  private closeStream(streamId: number, respond: () => void): void {
    const stream = this.streams.get(streamId);
    this.streams.delete(streamId);
    for (const [id, cursor] of this.cursors) {
      if (cursor.streamId === streamId) this.cursors.delete(id);
    }
    if (!stream) {
      respond();
      return;
    }
    // Requests sent before close_stream still run; the stream closes after them.
    void stream.enqueue(async () => {
      stream.close();
      respond();
    });
  }

  /** execute, batch, sequence, describe and get_autocommit: queued on their stream. */
  private streamRequest(
    requestId: number,
    req: Extract<proto.WsRequest, { streamId: number }>,
    access: Access,
    respond: (response: proto.WsResponse) => void,
  ): void {
    const stream = this.stream(req.streamId);
    // Resolve stored SQL now: a close_sql sent after this request must not affect it.
    const resolved = resolveSql(req, this.store);
    const budget = this.deps.limits.newBudget();
    stream
      .enqueue(async () => {
        stream.readOnly = access === "read-only";
        return stream.handle(resolved, budget);
      })
      .then(
        (response) => respond(response as proto.WsResponse),
        (err) => this.requestFailed(requestId, err),
      )
      .finally(() => budget.release());
  }

  private openCursor(
    req: Extract<proto.WsRequest, { type: "open_cursor" }>,
    access: Access,
    respond: () => void,
  ): void {
    const stream = this.stream(req.streamId);
    if (this.cursors.has(req.cursorId))
      throw new ProtocolError(`Cursor ${req.cursorId} already exists`);
    for (const cursor of this.cursors.values()) {
      if (cursor.streamId === req.streamId) {
        throw new ProtocolError(`Stream ${req.streamId} already has an open cursor`);
      }
    }
    const batch = resolveBatch(req.batch, this.store);
    const budget = this.deps.limits.newBudget();
    const entries = stream.enqueue(async () => {
      stream.readOnly = access === "read-only";
      return stream.cursor(batch, budget);
    });
    entries.catch((err) => this.fail(err)).finally(() => budget.release());
    this.cursors.set(req.cursorId, { streamId: req.streamId, entries, position: 0 });
    respond();
  }

  private fetchCursor(
    requestId: number,
    cursorId: number,
    maxCount: number,
    respond: (response: proto.WsResponse) => void,
  ): void {
    const cursor = this.cursors.get(cursorId);
    if (!cursor) throw new ProtocolError(`Cursor ${cursorId} not found`);
    cursor.entries.then(
      (entries) => {
        const batch = entries.slice(cursor.position, cursor.position + maxCount);
        cursor.position += batch.length;
        respond({ type: "fetch_cursor", entries: batch, done: cursor.position >= entries.length });
      },
      (err) => this.requestFailed(requestId, err),
    );
  }

  private stream(streamId: number): HranaStream {
    const stream = this.streams.get(streamId);
    if (!stream) throw new ProtocolError(`Stream ${streamId} not found`);
    return stream;
  }

  private requestFailed(requestId: number, err: unknown): void {
    if (err instanceof SqlError || err instanceof ResponseError) {
      this.send({ type: "response_error", request_id: requestId, error: errorOf(err) });
    } else {
      this.fail(err);
    }
  }

  private send(msg: proto.ServerMsg): void {
    if (!this.closed) this.peer.send(msg);
  }

  /** A protocol violation ends the connection with a close code; anything else is a bug. */
  private fail(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.closeWith(err.closeCode, err.message);
    } else {
      log("error", "internal error (WebSocket)", {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      this.closeWith(1011, "Internal server error");
    }
  }

  private closeWith(code: number, reason: string): void {
    if (this.closed) return;
    // Close frame reasons are limited to 123 bytes.
    this.peer.close(code, Buffer.from(reason).subarray(0, 123).toString());
    this.close();
  }
}

function resolveStmt(stmt: proto.Stmt, store: SqlStore): proto.Stmt {
  return "sql" in stmt.source ? stmt : { ...stmt, source: { sql: store.resolve(stmt.source) } };
}

function resolveBatch(batch: proto.Batch, store: SqlStore): proto.Batch {
  return { steps: batch.steps.map((step) => ({ ...step, stmt: resolveStmt(step.stmt, store) })) };
}

function resolveSql(req: proto.WsRequest, store: SqlStore): proto.StreamRequest {
  switch (req.type) {
    case "execute":
      return { type: "execute", stmt: resolveStmt(req.stmt, store) };
    case "batch":
      return { type: "batch", batch: resolveBatch(req.batch, store) };
    case "sequence":
    case "describe":
      return { type: req.type, source: { sql: store.resolve(req.source) } };
    case "get_autocommit":
      return { type: "get_autocommit" };
    default:
      throw new ProtocolError("Request type not recognized");
  }
}
