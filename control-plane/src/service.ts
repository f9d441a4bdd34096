import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { dirname, join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { destination, pino } from "pino";
import { boundRequestArrival, httpServerOptions, refuseTunnels } from "../../core/http-server";
import { selectEngine } from "../../core/sqlite/index";
import { AccessControl } from "./access-control";
import { loadAdminToken } from "./admin-token";
import { API_KEYS_SCHEMA, ApiKeys } from "./api-keys";
import { buildControlPlaneApp } from "./app";
import { AUDIT_SCHEMA, AuditLog } from "./audit-log";
import { BackupService } from "./backups/backup-service";
import { BackupKey } from "./backups/encryption";
import { BACKUP_SCHEDULE_SCHEMA, BackupSchedules } from "./backups/schedules";
import { type BackupTarget, LocalTarget, S3Target } from "./backups/targets";
import { DockerDriver } from "./drivers/docker";
import { ProcessDriver } from "./drivers/process";
import type { WorkerDriver } from "./drivers/types";
import type { ControlPlaneConfig } from "./env";
import { FileImporter } from "./files/file-importer";
import { assertNotWritableByWorkers, secureDataRoot, workerUidRange } from "./isolation";
import { KeyRing } from "./keys";
import { DatabaseManager } from "./manager";
import { ControlPlaneMetrics } from "./metrics";
import { Registry } from "./registry";
import { USAGE_SCHEMA, UsageLedger } from "./usage-ledger";

export interface RunningControlPlane {
  url: string;
  port: number;
  adminToken: string;
  adminTokenSource: string;
  manager: DatabaseManager;
  driver: WorkerDriver;
  /** Graceful stop; stops the workers too when configured to. */
  close(): Promise<void>;
}

/**
 * The control plane's callers are the functions and operators' scripts, sending small JSON
 * bodies: a request still arriving after 10 s is a stuck or hostile client. (These bound the
 * request's arrival only; a resolve that starts a worker may take longer to answer.)
 */
export const CONTROL_PLANE_TIMEOUTS = { headersMs: 5_000, requestMs: 10_000 };

/**
 * Database file uploads (import) stream for as long as their size needs; the headers still
 * have to arrive within `headersMs`, and every other route takes small JSON bodies.
 */
const UPLOAD_REQUEST_MS = 30 * 60_000;

/** Everything the control plane keeps for itself lives here, away from database directories. */
export const STATE_DIR = ".control-plane";

export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const stateDir = join(config.dataDir, STATE_DIR);
  // Identifies this control plane's workers on a shared Docker engine or machine; stable across
  // restarts because it is derived from the data directory.
  const instanceId = createHash("sha256").update(config.dataDir).digest("hex").slice(0, 10);
  const workerUids = workerUidRange(config.DBFORGE_WORKER_UIDS);
  secureDataRoot(config.dataDir, stateDir, workerUids);
  selectEngine(config.DBFORGE_ENGINE);
  const registry = new Registry(join(stateDir, "registry.db"), [
    API_KEYS_SCHEMA,
    AUDIT_SCHEMA,
    USAGE_SCHEMA,
    BACKUP_SCHEDULE_SCHEMA,
  ]);
  const apiKeys = new ApiKeys(registry);
  const audit = new AuditLog(registry);
  const usage = new UsageLedger(registry);
  const keys = KeyRing.load(join(stateDir, "root-ed25519.pem"));
  const admin = loadAdminToken(config.DBFORGE_ADMIN_TOKEN, join(stateDir, "admin-token"));
  const workerEnv: Record<string, string> = {
    DBFORGE_ENGINE: config.DBFORGE_ENGINE,
    DBFORGE_LOG_LEVEL: config.DBFORGE_LOG_LEVEL,
  };
  if (config.DBFORGE_QUERY_TIMEOUT_MS)
    workerEnv.DBFORGE_QUERY_TIMEOUT_MS = String(config.DBFORGE_QUERY_TIMEOUT_MS);
  if (config.DBFORGE_USAGE_FLUSH_MS)
    workerEnv.DBFORGE_USAGE_FLUSH_MS = String(config.DBFORGE_USAGE_FLUSH_MS);
  if (config.DBFORGE_BACKUPS === "on") workerEnv.DBFORGE_WAL_ARCHIVE = "on";
  if (config.DBFORGE_WAL_SEGMENT_MS)
    workerEnv.DBFORGE_WAL_SEGMENT_MS = String(config.DBFORGE_WAL_SEGMENT_MS);
  const driver = await createDriver(config, instanceId, stateDir, workerEnv);
  // The manager is made below; the metrics read its databases only when scraped.
  let managerRef: DatabaseManager | undefined;
  const metrics = new ControlPlaneMetrics(
    () => managerRef?.list() ?? [],
    config.DBFORGE_METRICS_MAX_DATABASES,
  );
  usage.onUsage((database, delta) => metrics.recordUsage(database, delta));
  const schedules = new BackupSchedules(registry, {
    intervalS: config.DBFORGE_BACKUP_INTERVAL_S,
    keep: config.DBFORGE_BACKUP_KEEP,
    maxAgeS: config.DBFORGE_BACKUP_MAX_AGE_S,
  });
  const manager = new DatabaseManager(registry, driver, keys, {
    dataRoot: config.dataDir,
    idleTimeoutS: config.DBFORGE_IDLE_TIMEOUT_S,
    healthIntervalMs: config.DBFORGE_HEALTH_INTERVAL_MS,
    healthProbeIntervalMs: config.DBFORGE_HEALTH_PROBE_INTERVAL_MS,
    resolveTokenTtlS: config.DBFORGE_RESOLVE_TOKEN_TTL_S,
    workerEnv,
    defaultMemoryMb: config.DBFORGE_WORKER_MEMORY_MB,
    keepWarm: config.DBFORGE_KEEP_WARM === "true",
    defaultQuotaBytes: config.DBFORGE_DEFAULT_QUOTA,
    events: {
      // The last worker's final counters are folded in before a new one starts over from zero.
      beforeStart: (name) => foldUsage(name),
      started: (_name, cause, ms) => metrics.recordStart(cause, ms),
      // Its backups stay (they outlive the database, until retention or DELETE): only its
      // own schedule goes, so a new database of the same name starts from the defaults.
      purged: (name) => {
        usage.forget(name);
        schedules.forget(name);
      },
    },
    ...(workerUids ? { workerUids } : {}),
  });
  managerRef = manager;
  function foldUsage(name: string): void {
    try {
      usage.fold(name, manager.usageFile(name));
    } catch (err) {
      console.error(
        JSON.stringify({ msg: "could not fold usage", name, error: (err as Error).message }),
      );
    }
  }
  await manager.start();
  const usageTimer = setInterval(() => {
    for (const name of manager.names()) foldUsage(name);
  }, config.DBFORGE_USAGE_INTERVAL_MS);
  usageTimer.unref();
  const log = pino(
    { level: config.DBFORGE_LOG_LEVEL, base: { service: "control-plane" } },
    destination({ dest: 1, sync: false }),
  );
  const engineCheck = {
    bundle: resolve(config.DBFORGE_WORKER_BUNDLE),
    env: workerEnv,
    timeoutMs: 10 * 60_000,
  };
  const files = new FileImporter(manager, {
    uploadsDir: join(stateDir, "uploads"),
    workerBundle: engineCheck.bundle,
    workerEnv,
    defaultQuotaBytes: config.DBFORGE_DEFAULT_QUOTA,
    checkTimeoutMs: engineCheck.timeoutMs,
  });
  const backups = new BackupService(
    manager,
    files,
    backupTarget(config),
    BackupKey.load(
      config.DBFORGE_BACKUP_KEY,
      config.DBFORGE_BACKUP_KEY_FILE,
      join(stateDir, "backup-key"),
    ),
    schedules,
    {
      workDir: join(stateDir, "backup-work"),
      shipIntervalMs: config.DBFORGE_BACKUP_SHIP_INTERVAL_MS,
      startTimeoutMs: 120_000,
      engineCheck,
    },
  );
  if (config.DBFORGE_BACKUPS === "on") backups.start();
  const app = buildControlPlaneApp({
    manager,
    files,
    backups,
    access: new AccessControl(admin.token, apiKeys, config.DBFORGE_METRICS_TOKEN),
    keys: apiKeys,
    audit,
    usage,
    metrics,
    log,
    driver: driver.kind,
    authThrottle: {
      burst: config.DBFORGE_AUTH_FAILURE_BURST,
      perMinute: config.DBFORGE_AUTH_FAILURES_PER_MINUTE,
    },
    trustedProxies: config.DBFORGE_TRUSTED_PROXIES,
  });
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: config.listen.host,
        port: config.listen.port,
        serverOptions: httpServerOptions({
          ...CONTROL_PLANE_TIMEOUTS,
          requestMs: UPLOAD_REQUEST_MS,
        }),
      },
      () => ready(s),
    );
  });
  refuseTunnels(server as Server);
  boundRequestArrival(server as Server, CONTROL_PLANE_TIMEOUTS.requestMs, isUpload);
  // An upload refused before its body was read (a taken name, no access, over quota) leaves
  // the rest of the body on the connection: close it after the answer, or the caller's next
  // request on the same kept-alive connection would fail.
  (server as Server).prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    if (isUpload(req)) res.setHeader("Connection", "close");
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.listen.port;
  return {
    url: `http://${config.listen.host}:${port}`,
    port,
    adminToken: admin.token,
    adminTokenSource: admin.source,
    manager,
    driver,
    async close() {
      await new Promise<void>((done) => server.close(() => done()));
      clearInterval(usageTimer);
      await manager.shutdown(config.stopWorkersOnExit);
      // After the workers: their last segments ship on the next start.
      await backups.stop();
      for (const name of manager.names()) foldUsage(name);
      await driver.close?.();
      registry.close();
      log.flush();
    },
  };
}

function backupTarget(config: ControlPlaneConfig): BackupTarget {
  if (!config.DBFORGE_BACKUP_S3_BUCKET)
    return new LocalTarget(config.DBFORGE_BACKUP_DIR ?? join(config.dataDir, ".backups"));
  const endpoint = config.DBFORGE_BACKUP_S3_ENDPOINT;
  const { DBFORGE_BACKUP_S3_ACCESS_KEY_ID: id, DBFORGE_BACKUP_S3_SECRET_ACCESS_KEY: secret } =
    config;
  return new S3Target({
    bucket: config.DBFORGE_BACKUP_S3_BUCKET,
    prefix: config.DBFORGE_BACKUP_S3_PREFIX,
    region: config.DBFORGE_BACKUP_S3_REGION,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle:
      (config.DBFORGE_BACKUP_S3_FORCE_PATH_STYLE ?? String(Boolean(endpoint))) === "true",
    ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret } } : {}),
  });
}

/** Requests whose body is a database file (they may take as long as its size needs). */
function isUpload(req: IncomingMessage): boolean {
  return req.method === "POST" && /^\/v1\/databases\/[^/?]+\/import(?:\?|$)/.test(req.url ?? "");
}

async function createDriver(
  config: ControlPlaneConfig,
  instanceId: string,
  stateDir: string,
  workerEnv: Record<string, string>,
): Promise<WorkerDriver> {
  if (config.DBFORGE_DRIVER === "docker") {
    // Loaded only for the Docker driver: ~250 ms of every process driver's start otherwise.
    const { default: Dockerode } = await import("dockerode");
    return new DockerDriver({
      docker: new Dockerode({ socketPath: config.DBFORGE_DOCKER_SOCKET }),
      image: config.DBFORGE_WORKER_IMAGE,
      instanceId,
      dataRoot: config.dataDir,
      ...(config.DBFORGE_HOST_DATA_DIR ? { hostDataRoot: config.DBFORGE_HOST_DATA_DIR } : {}),
      ...(config.DBFORGE_DOCKER_NETWORK ? { network: config.DBFORGE_DOCKER_NETWORK } : {}),
      ...(config.DBFORGE_TRAEFIK_DOMAIN ? { traefikDomain: config.DBFORGE_TRAEFIK_DOMAIN } : {}),
      cpus: config.DBFORGE_WORKER_CPUS,
      pool: {
        size: config.DBFORGE_DOCKER_POOL,
        memoryMb: config.DBFORGE_WORKER_MEMORY_MB,
        env: workerEnv,
        leaseMs: config.DBFORGE_DOCKER_POOL_LEASE_S * 1000,
      },
      ...(process.getuid && process.getgid
        ? { user: { uid: process.getuid(), gid: process.getgid() } }
        : {}),
    });
  }
  const bundle = resolve(config.DBFORGE_WORKER_BUNDLE);
  if (existsSync(bundle)) assertNotWritableByWorkers([bundle, dirname(bundle), process.execPath]);
  return new ProcessDriver({
    dataRoot: config.dataDir,
    stateDir,
    bundle,
    instanceId,
    ...(config.DBFORGE_WORKER_PORTS ? { ports: config.DBFORGE_WORKER_PORTS } : {}),
    pool: {
      size: config.DBFORGE_WORKER_POOL,
      memoryMb: config.DBFORGE_WORKER_MEMORY_MB,
      env: workerEnv,
    },
  });
}
