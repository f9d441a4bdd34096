import { createServer, type Server } from "node:http";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
} from "node:net";
import { dirname, join } from "node:path";
import { httpServerOptions, refuseTunnels } from "../../core/http-server";
import { parsePublicKeys } from "../../core/jwt";
import { engine } from "../../core/sqlite/index";
import { GENERATION_REQUEST_FILE, WAL_ARCHIVE_DIR } from "../../core/wal-archive";
import { Authenticator } from "./auth/authenticator";
import { Database } from "./engine/database";
import { ResponseLimits } from "./engine/limits";
import { removeStraySnapshots } from "./engine/snapshot";
import { WalArchiver, type WalArchiverOptions } from "./engine/wal-archiver";
import { SQLITE_HEAP_SHARE, STORED_SQL_SHARE, type WorkerConfig } from "./env";
import { HttpStreams } from "./hrana/http-streams";
import { StoredSqlBudget } from "./hrana/sql-store";
import { log } from "./log";
import { cursorAnswer, errorAnswer, pipelineAnswer } from "./transport/answers";
import type { WorkerContext } from "./transport/context";
import { workerHotPath } from "./transport/hot-path";
import { handleHttp, isPassiveRequest } from "./transport/http";
import { WebSocketTransport } from "./transport/websocket";
import { UsageFileWriter } from "./usage";
import { workerVersion } from "./version";

export interface RunningWorker {
  /** The bound HTTP port (useful with port 0). */
  port: number;
  /** Graceful stop: finish in-flight work, roll back open transactions, checkpoint, close. */
  shutdown(): Promise<void>;
}

export interface WorkerHooks {
  /** Called once the worker has been idle for SQLD_IDLE_SHUTDOWN_TIMEOUT_S. */
  onIdle?(): void;
}

/** Opens the database and starts serving it; resolves once listening. */
export async function startWorker(
  config: WorkerConfig,
  hooks: WorkerHooks = {},
): Promise<RunningWorker> {
  removeStraySnapshots(dirname(config.dbFile));
  // Before the database opens: its set-up connection must not be the last to close while the
  // WAL holds frames the archive has not taken (SQLite checkpoints on the last close).
  const archiver =
    config.DBFORGE_WAL_ARCHIVE === "on"
      ? openArchiver({
          dbFile: config.dbFile,
          dir: join(config.SQLD_DB_PATH, WAL_ARCHIVE_DIR),
          requestFile: join(config.SQLD_DB_PATH, GENERATION_REQUEST_FILE),
          engine: `${engine().name} ${engine().version}`,
          segmentMaxBytes: 16 * 1024 * 1024,
          segmentMaxAgeMs: config.DBFORGE_WAL_SEGMENT_MS,
          checkpointFrames: 1000,
          pollMs: 100,
          idlePollMs: 1000,
          restPollMs: 30_000,
        })
      : undefined;
  const db = Database.open({
    path: config.dbFile,
    queryTimeoutMs: config.DBFORGE_QUERY_TIMEOUT_MS,
    lockWaitTimeoutMs: config.DBFORGE_LOCK_WAIT_TIMEOUT_MS,
    transactionTimeoutMs: config.DBFORGE_TRANSACTION_TIMEOUT_MS,
    synchronous: config.DBFORGE_SYNCHRONOUS,
    poolSize: 16,
    maxConnections: config.DBFORGE_MAX_CONNECTIONS,
    heapLimitBytes: config.DBFORGE_MEMORY_LIMIT * SQLITE_HEAP_SHARE,
    diskReserve: {
      path: join(config.SQLD_DB_PATH, "disk-reserve"),
      bytes: config.DBFORGE_DISK_RESERVE,
    },
    ...(config.DBFORGE_MAX_DB_BYTES === undefined
      ? {}
      : { maxDbBytes: config.DBFORGE_MAX_DB_BYTES }),
    walArchived: archiver !== undefined,
  });
  const usageFile = new UsageFileWriter(
    db.usage,
    config.SQLD_DB_PATH,
    config.DBFORGE_USAGE_FLUSH_MS,
  );
  let shuttingDown = false;
  const storedSql = new StoredSqlBudget(
    config.DBFORGE_MAX_STORED_SQL_BYTES ??
      Math.floor(config.DBFORGE_MEMORY_LIMIT * STORED_SQL_SHARE),
  );
  const ctx: WorkerContext = {
    db,
    streams: new HttpStreams(db, {
      idleTimeoutMs: config.DBFORGE_STREAM_IDLE_TIMEOUT_MS,
      tombstoneMs: 300_000,
      maxStreams: config.DBFORGE_MAX_STREAMS,
      storedSql,
    }),
    storedSql,
    limits: new ResponseLimits(config.SQLD_MAX_RESPONSE_SIZE, config.SQLD_MAX_TOTAL_RESPONSE_SIZE),
    authenticator: new Authenticator(config.jwtKey ? parsePublicKeys(config.jwtKey) : undefined),
    maxBodyBytes: config.DBFORGE_MAX_BODY_BYTES,
    version: workerVersion(),
    isHealthy: () => !shuttingDown,
    afterRequest: () => {
      archiver?.poke();
      usageFile.changed();
    },
  };
  const websockets = new WebSocketTransport(ctx);
  let inFlight = 0;

  let lastActivity = Date.now();
  /**
   * A request begins; the call returned marks its end. Health checks and probes are not use:
   * they must not keep an idle database awake, nor bring back the WAL archiver's quick looks:
   * they write nothing, and the control plane sends one to every database every few seconds.
   */
  const requestBegins = (use: boolean) => {
    if (use) lastActivity = Date.now();
    inFlight++;
    return () => {
      inFlight--;
      // Idle time counts from the end of the last use: a statement that ran longer than the
      // idle timeout (the timer cannot run meanwhile) is not followed by an immediate stop.
      if (!use) return;
      lastActivity = Date.now();
      ctx.afterRequest();
    };
  };
  // node:http checks its connections' timeouts on an interval that runs even with none open;
  // its connections here are the few the hot path hands over (the hot path's own check runs
  // only while it has connections). Every 5 s, not every second: a 408 up to 5 s late, and an
  // idle worker not woken every second.
  const server = createServer(httpServerOptions({ checkMs: 5000 }), (req, res) => {
    const done = requestBegins(!isPassiveRequest(req.url));
    if (shuttingDown) res.setHeader("Connection", "close");
    res.on("close", done);
    void handleHttp(ctx, req, res);
  });
  server.on("upgrade", (req, socket, head) => {
    if (shuttingDown) return void socket.destroy();
    websockets.handleUpgrade(req, socket, head);
  });
  refuseTunnels(server);
  // Hrana POSTs take the hot path; every other request goes to `server` (./transport/hot-path.ts).
  const hotPath = workerHotPath({
    answer: (route, request) =>
      (route === "cursor" ? cursorAnswer(ctx, request) : pipelineAnswer(ctx, route, request)).catch(
        errorAnswer,
      ),
    authenticate: (authorization) => ctx.authenticator.fromHeader(authorization),
    fallback: server,
    maxBodyBytes: config.DBFORGE_MAX_BODY_BYTES,
    headersTimeoutMs: server.headersTimeout,
    requestTimeoutMs: server.requestTimeout,
    keepAliveTimeoutMs: server.keepAliveTimeout,
    onRequest: () => requestBegins(true),
  });
  // allowHalfOpen: a client that ends its side after a request still gets the answer, as from
  // node:http; noDelay as node:http sets it.
  const listener = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
    hotPath.accept(socket),
  );
  const listeners: (Server | NetServer)[] = [listener];
  const servers = [server];
  // sqld's separate WebSocket-only listener.
  if (config.SQLD_HRANA_LISTEN_ADDR) {
    const hrana = createServer(httpServerOptions({ checkMs: 5000 }), (_req, res) =>
      res.writeHead(404).end(),
    );
    hrana.on("upgrade", (req, socket, head) => websockets.handleUpgrade(req, socket, head));
    refuseTunnels(hrana);
    servers.push(hrana);
    listeners.push(hrana);
    await listen(hrana, config.SQLD_HRANA_LISTEN_ADDR);
  }
  await listen(listener, config.SQLD_HTTP_LISTEN_ADDR);
  // The first request would open the first connection: open it now, while whoever started
  // this worker hands out its address (a cold start is the first request).
  setImmediate(() => db.prewarm());

  // Idle means: no request for the timeout, none in flight, no open HTTP stream (it may hold a
  // transaction) and no WebSocket client (it expects its streams to stay).
  const idleTimeoutMs = (config.SQLD_IDLE_SHUTDOWN_TIMEOUT_S ?? 0) * 1000;
  // One timeout, armed for when the worker would have been idle long enough (requests only
  // move `lastActivity`): an idle worker wakes once per idle timeout for this, not every few
  // seconds. While a client holds a stream or socket, it looks again every few seconds.
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdleCheck = (delayMs: number) => {
    // At most an hour: setTimeout takes no more than 2^31 - 1 ms (~25 days), however long
    // the timeout.
    idleTimer = setTimeout(checkIdle, Math.min(Math.max(delayMs, 10), 3_600_000));
    idleTimer.unref();
  };
  const checkIdle = () => {
    if (shuttingDown) return;
    if (websockets.connections > 0 || ctx.streams.openStreams > 0 || inFlight > 0) {
      lastActivity = Date.now();
      return armIdleCheck(Math.min(5000, idleTimeoutMs / 4));
    }
    const left = lastActivity + idleTimeoutMs - Date.now();
    if (left > 0) return armIdleCheck(left);
    hooks.onIdle?.();
  };
  if (idleTimeoutMs > 0) armIdleCheck(idleTimeoutMs);

  return {
    port: (listener.address() as AddressInfo).port,
    async shutdown() {
      if (shuttingDown) return;
      shuttingDown = true;
      clearTimeout(idleTimer);
      const deadline = Date.now() + config.DBFORGE_SHUTDOWN_GRACE_MS;
      for (const l of listeners) l.close();
      hotPath.close();
      for (const s of servers) s.closeIdleConnections();
      await waitUntil(() => inFlight === 0, deadline);
      websockets.closeAll();
      ctx.streams.close();
      await waitUntil(() => db.activeConnections === 0, deadline);
      db.close();
      await archiver?.close();
      usageFile.close();
      db.checkpoint();
      hotPath.closeAll();
      for (const s of servers) s.closeAllConnections();
    },
  };
}

/**
 * The WAL archiver, or none when it cannot start (a full disk): the database is then served
 * without point-in-time history (checkpoints as usual) rather than not at all, and the next
 * start begins a new archive generation.
 */
function openArchiver(options: WalArchiverOptions): WalArchiver | undefined {
  try {
    return new WalArchiver(options);
  } catch (err) {
    log("error", "the WAL archive could not start; serving without it", { error: String(err) });
    return undefined;
  }
}

function listen(server: Server | NetServer, addr: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function waitUntil(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
