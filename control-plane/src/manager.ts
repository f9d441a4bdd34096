import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Access } from "../../core/access";
import type { DatabaseInfo, Resolved } from "../../core/control-plane-api";
import { DomainError } from "../../core/errors";
import { AuthError, decodeClaims, verifyJwt } from "../../core/jwt";
import { validateDatabaseName } from "../../core/names";
import { USAGE_FILE } from "../../core/usage-file";
import { directorySize, diskError } from "./disk";
import { SQLD_DB_DIR, type WorkerDriver, type WorkerSpec } from "./drivers/types";
import { type DatabaseKeyId, type KeyRing, newKeySalt, type SignedToken } from "./keys";
import type { DatabaseRecord, Registry } from "./registry";
import { httpLiveness, type Liveness, type WorkerLiveness } from "./worker-liveness";

export interface ManagerOptions {
  dataRoot: string;
  /** Workers stop themselves after this long without use (scale to zero). */
  idleTimeoutS: number;
  /** How often every running worker's state is read from the driver (cheap: exits, gone). */
  healthIntervalMs: number;
  /**
   * How often each running worker is also asked over HTTP whether it serves (a hung worker).
   * Default: every health round. Once a probe fails, every round probes until one succeeds.
   */
  healthProbeIntervalMs?: number;
  /** Lifetime of the tokens resolve hands out. */
  resolveTokenTtlS: number;
  /** Extra environment for every worker. */
  workerEnv: Record<string, string>;
  /** Unprivileged uids for workers (one per database), when DB-Forge runs as root. */
  workerUids?: { from: number; to: number };
  /** Memory cap of a worker when its database sets none, MiB. */
  defaultMemoryMb: number;
  /** Restart every database that was running at start-up, instead of on its next request. */
  keepWarm?: boolean;
  /** Quota of a database that sets none, bytes. */
  defaultQuotaBytes: number;
  /** Told of lifecycle events (usage, metrics); they must not throw. */
  events?: ManagerEvents;
  /** How running workers are asked whether they serve. Default: over HTTP. */
  liveness?: WorkerLiveness;
}

export interface ManagerEvents {
  /** A worker is about to start for `name`: the last one's files are final. */
  beforeStart?(name: string): void;
  /** A worker started: `cause` says why, `ms` how long it took to answer. */
  started?(name: string, cause: "create" | "wake" | "restart", ms: number): void;
  /** A database's files and registry entry are gone. */
  purged?(name: string): void;
}

/** Fills a new database's directory before its worker first starts (see `create`). */
export type DatabaseSeed = (target: {
  /** Where the database file goes (its directories are not made yet). */
  dbFile: string;
  /** The database's own user, when DB-Forge runs as root. */
  owner: { uid: number; gid: number } | null;
  quotaBytes: number;
}) => Promise<void>;

/** Databases recovered at once after a restart (each waits for its worker's status). */
const RECOVERY_CONCURRENCY = 32;

/** Consecutive failed health checks of a running worker before it is restarted. */
const UNHEALTHY_LIMIT = 3;
/** How many starts a resolve tries when each worker stops for idleness before it is handed out. */
const WAKE_ATTEMPTS = 3;

/** How long a resolve waits for a worker seen stopping itself to be gone (idle: ~0.1 s). */
const STOPPING_WAIT_MS = 5000;

/**
 * Owns databases and their workers: the registry is the source of truth for what should exist
 * and run; the driver is told to make it so. Lifecycle operations on one database are
 * serialized; the health loop restarts crashed workers and records idle stops.
 */
export class DatabaseManager {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly failures = new Map<string, number>();
  /** When each running worker last showed it serves (a probe, or a resolve that kept it awake). */
  private readonly lastServed = new Map<string, number>();
  private healthTimer: NodeJS.Timeout | undefined;
  /**
   * Set first thing in shutdown: from then on nothing starts a worker (no health restart, no
   * wake-up, no create), or a worker started during shutdown would outlive the control plane.
   */
  private stopping = false;
  private readonly liveness: WorkerLiveness;

  constructor(
    private readonly registry: Registry,
    private readonly driver: WorkerDriver,
    private readonly keys: KeyRing,
    private readonly options: ManagerOptions,
  ) {
    this.liveness = options.liveness ?? httpLiveness;
    driver.onExit((name) => void this.checkHealth(name));
  }

  /**
   * Recovers after a restart, in the background so the API listens at once whatever the number
   * of databases: reaps workers the registry does not know, finishes interrupted creates and
   * deletes, adopts live workers, and marks databases whose worker is gone as stopped (they
   * start on their next request, or at once when kept warm). Each database is recovered under
   * its own lock, so a request for it waits for its recovery; databases recover in parallel.
   * Resolves once recovery is under way; `recovered` once it is done.
   */
  async start(): Promise<void> {
    this.recovering = true;
    this.recovered = this.recover()
      .catch((err) => console.error("control plane: recovery failed:", (err as Error).message))
      .finally(() => {
        this.recovering = false;
      });
    this.healthTimer = setInterval(() => void this.healthTick(), this.options.healthIntervalMs);
    this.healthTimer.unref();
  }

  /** Settles when start-up recovery has finished (for tests and shutdown). */
  recovered: Promise<void> = Promise.resolve();
  /** True while start-up recovery runs (reported by /health). */
  recovering = false;

  private async recover(): Promise<void> {
    let owned: string[] = [];
    try {
      owned = await this.driver.list();
    } catch (err) {
      console.error("control plane: cannot list workers:", (err as Error).message);
    }
    const records = this.registry.list();
    const known = new Set(records.map((r) => r.name));
    const withWorker = new Set(owned);
    const orphans = owned.filter((name) => !known.has(name));
    // A stopped database without a worker has nothing to recover (it starts on its next
    // request): visiting thousands of them would hold up the start for nothing.
    const names = [
      ...records.filter((r) => r.status !== "stopped" || withWorker.has(r.name)).map((r) => r.name),
      ...orphans,
    ];
    await forEachLimited(names, RECOVERY_CONCURRENCY, (name) =>
      this.locked(name, () => this.recoverOne(name)).catch((err) =>
        console.error("control plane: could not recover", name, (err as Error).message),
      ),
    );
  }

  private async recoverOne(name: string): Promise<void> {
    if (this.stopping) return;
    const record = this.registry.get(name);
    if (!record) {
      console.log(JSON.stringify({ msg: "reaping orphan worker", name }));
      await this.driver.remove(name);
      return;
    }
    if (record.status === "creating" || record.status === "deleting") {
      await this.purge(name);
      return;
    }
    const status = await this.driver.status(name);
    if (status.state === "running") {
      if (record.status !== "running" || status.url !== record.url) {
        this.registry.update(name, { status: "running", url: status.url, workerId: status.id });
      }
      return;
    }
    if (record.status === "running") {
      if (this.options.keepWarm) {
        await this.restart(record, null);
      } else {
        this.registry.update(name, { status: "stopped", url: null, workerId: null });
      }
    }
  }

  /**
   * Refuses a create that cannot succeed (bad name, taken name) before a caller spends time on
   * it, such as receiving an upload; `create` checks again under the lock.
   */
  assertCreatable(name: string): void {
    validateDatabaseName(name);
    if (this.registry.get(name))
      throw new DomainError("DATABASE_EXISTS", `A database named "${name}" already exists`);
  }

  /**
   * Creates a database and starts its worker. `seed` fills its directory first (an imported or
   * restored file) once the database has its uid: if it throws, nothing is created.
   */
  async create(
    name: string,
    options: { memoryMb?: number; quotaBytes?: number; seed?: DatabaseSeed } = {},
  ): Promise<DatabaseInfo> {
    validateDatabaseName(name);
    return this.locked(name, async () => {
      let registered = false;
      try {
        registered = this.registry.insert(name, {
          keySalt: newKeySalt(),
          uid: this.freeUid(),
          memoryMb: options.memoryMb ?? null,
          quotaBytes: options.quotaBytes ?? null,
        });
        if (!registered)
          throw new DomainError("DATABASE_EXISTS", `A database named "${name}" already exists`);
        mkdirSync(this.dataDir(name), { recursive: true });
        if (options.seed) {
          const record = this.mustGet(name);
          await options.seed({
            dbFile: this.dbFile(name),
            owner: record.uid === null ? null : { uid: record.uid, gid: record.uid },
            quotaBytes: this.quotaOf(record),
          });
        }
        if (this.stopping) {
          throw new DomainError(
            "WORKER_UNAVAILABLE",
            "DB-Forge is shutting down; try again shortly",
          );
        }
        const worker = await this.startWorker(this.mustGet(name), "create");
        this.registry.update(name, {
          status: "running",
          workerId: worker.id,
          url: worker.url,
          lastActiveAt: Date.now(),
        });
        return this.info(this.mustGet(name));
      } catch (err) {
        // Nothing half-created stays behind: no worker, no directory, no registry entry. A
        // worker that cannot be removed now (engine gone) is reaped as an orphan later.
        if (registered) await this.purge(name, { bestEffort: true });
        throw diskError(err) ?? err;
      }
    });
  }

  async delete(name: string): Promise<void> {
    await this.locked(name, async () => {
      this.mustGet(name);
      this.registry.update(name, { status: "deleting" });
      await this.purge(name);
    });
  }

  /**
   * Changes a database's settings (its quota; null: the default). A running worker restarts at
   * once to take them: the quota is a pragma of every connection it opens.
   */
  async update(name: string, changes: { quotaBytes?: number | null }): Promise<DatabaseInfo> {
    return this.locked(name, async () => {
      const record = this.mustGet(name);
      if (changes.quotaBytes !== undefined && changes.quotaBytes !== record.quotaBytes) {
        this.registry.update(name, { quotaBytes: changes.quotaBytes });
        if (record.status === "running") await this.restart(this.mustGet(name), null);
      }
      return this.info(this.mustGet(name));
    });
  }

  /**
   * The names of the databases `list` gives, without reading anything of theirs: for rounds
   * over every database (usage, backups), where `list`'s sizes (a walk of each database's
   * directory) were most of an idle control plane's CPU.
   */
  names(): string[] {
    return this.registry
      .list()
      .filter((r) => r.status !== "deleting")
      .map((r) => r.name);
  }

  list(): DatabaseInfo[] {
    return this.registry
      .list()
      .filter((r) => r.status !== "deleting")
      .map((r) => this.info(r));
  }

  get(name: string): DatabaseInfo {
    return this.info(this.mustGet(name));
  }

  /**
   * The worker's URL and a short-lived token for `credential`'s access level, starting the worker
   * if it is stopped (cold start). Used by the functions for every database they talk to.
   */
  async resolve(name: string, access: Access, notAfter?: number): Promise<Resolved> {
    return this.locked(name, async () => {
      const record = this.mustGet(name);
      const url = await this.ensureRunning(record);
      this.registry.touch(name);
      const ttl = this.options.resolveTokenTtlS;
      const lifetime =
        notAfter === undefined ? ttl : Math.max(1, Math.min(ttl, notAfter - Date.now() / 1000));
      const minted = this.keys.mint(keyIdOf(record), access, Math.floor(lifetime));
      // ensureRunning counted this resolve as use, so the worker stays up for its idle timeout
      // from here. Half of it leaves room for a request queued behind a busy event loop: an
      // address used past that could meet the worker in its idle stop, which a Docker port
      // proxy answers by closing the connection (not retryable: see the functions' callWorker).
      const idleMs = this.options.idleTimeoutS * 1000;
      const awakeForMs = idleMs > 0 ? Math.floor(idleMs / 2) : null;
      return { url, token: minted.token, access, expiresAt: minted.expiresAt, awakeForMs };
    });
  }

  mintToken(name: string, access: Access, expiresInS: number | null): SignedToken {
    return this.keys.mint(keyIdOf(this.mustGet(name)), access, expiresInS);
  }

  /**
   * Invalidates every token of the database at once (a new key generation), and none of any
   * other database's. A running worker restarts with the new key; tokens the functions hold
   * from resolve are re-minted on their next use.
   */
  async revokeTokens(name: string): Promise<void> {
    await this.locked(name, async () => {
      const record = this.mustGet(name);
      this.registry.update(name, { keySalt: newKeySalt() });
      if (record.status === "running") await this.restart(this.mustGet(name), null);
    });
  }

  /**
   * Checks a database token presented for `name`: its access and expiry, or UNAUTHORIZED, or
   * FORBIDDEN when it is a genuine token of another database. Authentication comes before
   * existence: a bad, expired or foreign token gets the same answer whether `name` exists or
   * not, so tokens cannot be used to probe for database names.
   */
  authenticateDatabaseToken(name: string, token: string): { access: Access; exp?: number } {
    const claims = decodeClaims(token);
    if (!claims) throw new DomainError("UNAUTHORIZED", "The token is not a valid JWT");
    if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
      throw new DomainError("UNAUTHORIZED", "The token has expired");
    }
    const record = this.registry.get(name);
    const own = record && record.status !== "deleting" ? keyIdOf(record) : undefined;
    // Verify against a throwaway key when the database does not exist, so both cases take
    // the same time.
    const key = own ? this.keys.publicKeyObjectFor(own) : this.keys.publicKeyObjectFor(NO_DATABASE);
    try {
      const access = verifyJwt(token, [key]);
      if (own) return { access, ...(typeof claims.exp === "number" ? { exp: claims.exp } : {}) };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
    }
    const other = typeof claims.sub === "string" ? claims.sub : undefined;
    const otherRecord = other && other !== name ? this.registry.get(other) : undefined;
    if (other && otherRecord && otherRecord.status !== "deleting") {
      try {
        verifyJwt(token, [this.keys.publicKeyObjectFor(keyIdOf(otherRecord))]);
      } catch {
        throw new DomainError("UNAUTHORIZED", `The token is not valid for database "${name}"`);
      }
      throw new DomainError("FORBIDDEN", `This token is for database "${other}", not "${name}"`);
    }
    throw new DomainError("UNAUTHORIZED", `The token is not valid for database "${name}"`);
  }

  /** Stops the health loop, waits for operations in flight, optionally stops every worker. */
  /**
   * Stops the health loop and every wake-up first (no worker may start from now on), waits for
   * operations in flight, then optionally stops every worker and records them as stopped: a
   * clean stop leaves a true registry.
   */
  async shutdown(stopWorkers: boolean): Promise<void> {
    this.stopping = true;
    clearInterval(this.healthTimer);
    await this.recovered;
    await Promise.allSettled([...this.locks.values()]);
    if (!stopWorkers) return;
    const names = this.registry
      .list()
      .filter((r) => r.status === "running")
      .map((r) => r.name);
    await Promise.allSettled(
      names.map(async (name) => {
        await this.driver.stop(name);
        this.registry.update(name, { status: "stopped", url: null, workerId: null });
      }),
    );
  }

  /**
   * Every round reads each running worker's state from the driver; the HTTP probe, which costs
   * a connection and a few milliseconds of CPU on both sides, goes to a worker only when its
   * last sign of serving is older than the probe interval, its last probe failed, or the driver
   * sees it suspended (a stopped process, a paused container: probed at once). With
   * 1,000 idle databases, a probe every 5 s each was most of the control plane's idle CPU.
   */
  private async healthTick(): Promise<void> {
    const probeEvery = this.options.healthProbeIntervalMs ?? this.options.healthIntervalMs;
    // One call for the round where the driver has it; failing, each database is asked.
    const running = await this.driver.running?.().catch(() => undefined);
    for (const record of this.registry.list()) {
      if (this.stopping) return;
      if (record.status !== "running" || this.locks.has(record.name)) continue;
      const served = this.lastServed.get(record.name) ?? 0;
      const probe = this.failures.has(record.name) || Date.now() - served >= probeEvery;
      if (!probe && running?.has(record.name)) continue;
      await this.checkHealth(record.name, probe);
    }
  }

  /**
   * Restarts a crashed, gone or (probed and) persistently unhealthy worker; records an idle
   * stop. An exit event checks without a probe: the driver's state is what changed.
   */
  private async checkHealth(name: string, probe = false): Promise<void> {
    if (this.locks.has(name)) return;
    await this.locked(name, async () => {
      const record = this.registry.get(name);
      if (this.stopping || record?.status !== "running") return;
      const status = await this.driver.status(name);
      if (status.state === "running") {
        if (!probe && !status.suspended) return;
        if (await this.liveness.isHealthy(status.url)) {
          this.failures.delete(name);
          this.lastServed.set(name, Date.now());
          return;
        }
        const failures = (this.failures.get(name) ?? 0) + 1;
        this.failures.set(name, failures);
        if (failures < UNHEALTHY_LIMIT) return;
      } else if (status.state === "exited" && status.idle) {
        this.registry.update(name, { status: "stopped", url: null, workerId: null });
        this.lastServed.delete(name);
        console.log(JSON.stringify({ msg: "database stopped when idle", name }));
        return;
      }
      const why =
        status.state === "exited"
          ? status.detail
          : status.state === "missing"
            ? "worker missing"
            : "unhealthy";
      console.log(JSON.stringify({ msg: "restarting worker", name, why: why.slice(-300) }));
      this.failures.delete(name);
      await this.restart(record, why).catch((err) =>
        this.registry.update(name, { lastError: (err as Error).message }),
      );
    });
  }

  /** The running worker's URL, starting it if needed. Call with the database's lock held. */
  private async ensureRunning(record: DatabaseRecord): Promise<string> {
    if (record.status === "running") {
      const status = await this.driver.status(record.name);
      if (status.state === "running") {
        // The caller is about to use it: a worker at the very end of its idle timeout would
        // hand them a closed port. Asked to stay, it either stays or is seen stopping.
        if ((await this.askToStay(record, status.url)) !== "stopping") {
          if (status.url !== record.url)
            this.registry.update(record.name, { url: status.url, workerId: status.id });
          return status.url;
        }
        await this.untilStopped(record.name);
      }
    }
    // A started worker counts its idle time from its own start, and resolve promises the
    // caller half the idle timeout from its answer. A start slower than that (a host under
    // load, starts queued behind each other, an idle timeout of seconds) would hand out a
    // worker already stopping (32 parallel wakes under load, a 3 s timeout: up to 17 of them
    // refused): then it is asked to stay too, and started again if it is past that.
    const idleMs = this.options.idleTimeoutS * 1000;
    for (let attempt = 1; ; attempt++) {
      const began = Date.now();
      const url = await this.restart(this.mustGet(record.name), null);
      if (idleMs <= 0 || Date.now() - began < idleMs / 2) return url;
      const liveness = await this.askToStay(record, url);
      if (liveness === "serving") return url;
      // No answer in time: a worker the driver still sees running is handed out as it is.
      if (liveness === "unknown" && (await this.driver.status(record.name)).state === "running")
        return url;
      await this.untilStopped(record.name);
      if (attempt >= WAKE_ATTEMPTS) {
        throw new DomainError(
          "WORKER_UNAVAILABLE",
          `The worker of ${record.name} stopped for idleness before it could be handed out: starts take longer than its idle timeout on this host. Try again`,
        );
      }
    }
  }

  /** Tells the running worker at `url` it is about to be used (see keepAwake). */
  private async askToStay(record: DatabaseRecord, url: string): Promise<Liveness> {
    const token = this.keys.mint(keyIdOf(record), "read-only", 60).token;
    const liveness = await this.liveness.keepAwake(url, token);
    if (liveness === "serving") this.lastServed.set(record.name, Date.now());
    return liveness;
  }

  /** Waits (bounded) for a worker that is stopping itself to be gone, so it can start again. */
  private async untilStopped(name: string): Promise<void> {
    const deadline = Date.now() + STOPPING_WAIT_MS;
    while (Date.now() < deadline && (await this.driver.status(name)).state === "running")
      await new Promise((r) => setTimeout(r, 50));
  }

  private async restart(record: DatabaseRecord, why: string | null): Promise<string> {
    if (this.stopping) {
      throw new DomainError("WORKER_UNAVAILABLE", "DB-Forge is shutting down; try again shortly");
    }
    try {
      const worker = await this.startWorker(record, why === null ? "wake" : "restart");
      this.registry.update(record.name, {
        status: "running",
        url: worker.url,
        workerId: worker.id,
        // An idle wake-up is not a restart; a crash recovery is.
        restarts: record.restarts + (why === null ? 0 : 1),
        lastError: why === null ? null : why.slice(-2000),
      });
      return worker.url;
    } catch (err) {
      throw diskError(err) ?? err;
    }
  }

  private async startWorker(
    record: DatabaseRecord,
    cause: "create" | "wake" | "restart",
  ): Promise<{ id: string; url: string }> {
    const events = this.options.events;
    events?.beforeStart?.(record.name);
    const started = performance.now();
    const worker = await this.driver.start(this.spec(record));
    // A driver's start returns once the worker answers: that is a sign of serving.
    this.lastServed.set(record.name, Date.now());
    events?.started?.(record.name, cause, performance.now() - started);
    return worker;
  }

  private async purge(name: string, { bestEffort = false } = {}): Promise<void> {
    try {
      await this.driver.remove(name);
    } catch (err) {
      if (!bestEffort) throw err;
      console.error("control plane: could not remove the worker of", name, (err as Error).message);
    }
    rmSync(this.dataDir(name), { recursive: true, force: true });
    try {
      this.registry.delete(name);
    } catch (err) {
      // Deleting a row can fail on a full disk; the row stays "creating"/"deleting" and the
      // next start finishes the job.
      if (!bestEffort) throw err;
      console.error("control plane: could not unregister", name, (err as Error).message);
    }
    this.failures.delete(name);
    this.lastServed.delete(name);
    this.options.events?.purged?.(name);
  }

  private spec(record: DatabaseRecord): WorkerSpec {
    const { name } = record;
    return {
      name,
      dataDir: this.dataDir(name),
      jwtPublicKey: this.keys.publicKeyFor(keyIdOf(record)),
      uid: record.uid,
      memoryMb: record.memoryMb ?? this.options.defaultMemoryMb,
      idleShutdownS: this.options.idleTimeoutS,
      quotaBytes: this.quotaOf(record),
      env: this.options.workerEnv,
    };
  }

  private quotaOf(record: DatabaseRecord): number {
    return record.quotaBytes ?? this.options.defaultQuotaBytes;
  }

  /**
   * The lowest uid of the range no database has, or null without a range. Called right before
   * the registry insert, with no await in between, so two creates never get the same uid.
   */
  private freeUid(): number | null {
    const range = this.options.workerUids;
    if (!range) return null;
    const used = this.registry.usedUids();
    for (let uid = range.from; uid <= range.to; uid++) if (!used.has(uid)) return uid;
    throw new DomainError(
      "WORKER_START_FAILED",
      `Every worker uid in DBFORGE_WORKER_UIDS (${range.from}-${range.to}) is taken`,
    );
  }

  private dataDir(name: string): string {
    return join(this.options.dataRoot, name);
  }

  /** The database's SQLite file (the sqld image's layout). */
  private dbFile(name: string): string {
    return join(this.dataDir(name), SQLD_DB_DIR, "dbs", "default", "data");
  }

  private mustGet(name: string): DatabaseRecord {
    const record = this.registry.get(name);
    if (!record || record.status === "deleting") {
      throw new DomainError("DATABASE_NOT_FOUND", `No database named "${name}"`);
    }
    return record;
  }

  private info(record: DatabaseRecord): DatabaseInfo {
    return {
      name: record.name,
      status: record.status,
      createdAt: new Date(record.createdAt).toISOString(),
      lastActiveAt: new Date(record.lastActiveAt).toISOString(),
      // The database file, its WAL and shared memory; not the worker's lock or disk reserve.
      sizeBytes: directorySize(join(this.dataDir(record.name), SQLD_DB_DIR, "dbs")),
      url: record.status === "running" ? record.url : null,
      workerId: record.status === "running" ? record.workerId : null,
      restarts: record.restarts,
      lastError: record.lastError,
      memoryMb: record.memoryMb ?? this.options.defaultMemoryMb,
      quotaBytes: this.quotaOf(record),
    };
  }

  /** The database's worker data directory (SQLD_DB_PATH: its file, WAL archive, usage). */
  workerDir(name: string): string {
    return join(this.dataDir(name), SQLD_DB_DIR);
  }

  /** The database file's path (it need not exist yet). */
  databaseFile(name: string): string {
    return this.dbFile(name);
  }

  /** The owner a database's files must have (its own uid, when DB-Forge runs as root). */
  ownerOf(name: string): { uid: number; gid: number } | null {
    const { uid } = this.mustGet(name);
    return uid === null ? null : { uid, gid: uid };
  }

  /**
   * Replaces a database's files while its worker is stopped: stops it (gracefully: its WAL is
   * archived and checkpointed), runs `swap`, and starts it again, all under the database's
   * lock so no request or health check sees the files half-swapped.
   */
  async replaceFiles(name: string, swap: () => Promise<void>): Promise<DatabaseInfo> {
    return this.locked(name, async () => {
      this.mustGet(name);
      await this.driver.stop(name);
      this.registry.update(name, { status: "stopped", url: null, workerId: null });
      await swap();
      await this.restart(this.mustGet(name), null);
      return this.info(this.mustGet(name));
    });
  }

  /** Where a database's worker writes its usage counters (core/usage-file.ts). */
  usageFile(name: string): string {
    return join(this.dataDir(name), SQLD_DB_DIR, USAGE_FILE);
  }

  /** Runs `op` once every earlier operation on the same database has finished. */
  private locked<T>(name: string, op: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const result = previous.then(op, op);
    const tail = result.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    });
    return result;
  }
}

/** A key no database has: what a token is checked against when its database does not exist. */
const NO_DATABASE: DatabaseKeyId = { name: "", salt: newKeySalt() };

function keyIdOf(record: DatabaseRecord): DatabaseKeyId {
  return { name: record.name, salt: record.keySalt };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
