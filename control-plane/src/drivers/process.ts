import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { DomainError } from "../../../core/errors";
import { workerLockHeld } from "../../../core/worker-lock";
import { diskError } from "../disk";
import { secureDataDir } from "./data-dir";
import { readLogTail } from "./log-tail";
import { fitsPool } from "./pool";
import { type PooledWorker, WorkerPool } from "./process-pool";
import { alive, HAS_PROC, scanWorkers, workerState } from "./process-table";
import {
  memoryEnv,
  SQLD_DB_DIR,
  type StartedWorker,
  type WorkerDriver,
  type WorkerSpec,
  type WorkerStatus,
  waitForHealth,
} from "./types";

export interface ProcessDriverOptions {
  /** db-data: one directory per database. */
  dataRoot: string;
  /**
   * The control plane's own directory: pid files and worker logs live there, out of reach of
   * the workers (a worker could otherwise rewrite its pid file to have another process killed).
   */
  stateDir: string;
  /** The bundled worker (dist/worker/worker.cjs). */
  bundle: string;
  /** Identifies this control plane's workers (like the Docker instance label). */
  instanceId: string;
  /** Ports to use; any free port when unset. */
  ports?: { from: number; to: number };
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /**
   * Pre-started workers kept ready (./process-pool.ts), for databases with this memory cap and
   * worker environment (the defaults); none when unset.
   */
  pool?: { size: number; memoryMb: number; env: Record<string, string> };
}

/** What a running worker's directory records about it, so a restarted control plane can adopt it. */
interface PidFile {
  pid: number;
  port: number;
  instance: string;
  startedAt: number;
  /** A pooled worker's slot: its environment names no database (see process-table.ts). */
  slot?: string;
}

/** Starts tried on other ports when another program took the chosen one meanwhile. */
const PORT_ATTEMPTS = 5;

/** The worker could not bind its port: someone else took it after the check. */
class PortTaken extends Error {
  constructor(readonly failure: DomainError) {
    super(failure.message);
  }
}

/** Where versions before 0.2 kept the pid file and log: in the database's own directory. */
const LEGACY_PID_FILE = "worker.json";

/**
 * Address space a worker may map beyond its memory cap: node reserves about 1.4 GiB of virtual
 * memory at start (code range, heap reservations) that is never resident. RLIMIT_AS is the OS
 * backstop for allocations SQLite's and V8's own limits do not see.
 */
const ADDRESS_SPACE_BASELINE_MB = 2048;

/**
 * Workers as local child processes: `node dist/worker/worker.cjs`, detached so they outlive a
 * control plane crash, with a pid file in the database's directory. The environment variables
 * DBFORGE_WORKER_NAME and DBFORGE_INSTANCE play the role of Docker labels: they are checked in
 * /proc before a pid is trusted, so a recycled pid is never signalled.
 */
export class ProcessDriver implements WorkerDriver {
  readonly kind = "process";
  private readonly children = new Map<string, ChildProcess>();
  private readonly stopping = new Set<string>();
  private readonly exitListeners: Array<(name: string) => void> = [];
  /** Ports of DBFORGE_WORKER_PORTS held by starts in progress. */
  private readonly reservedPorts = new Set<number>();

  /** util-linux `prlimit`, to start workers under RLIMIT_AS (Linux); undefined elsewhere. */
  private readonly prlimit = findExecutable("prlimit");

  private readonly pool: WorkerPool | undefined;

  constructor(private readonly options: ProcessDriverOptions) {
    mkdirSync(join(options.stateDir, "workers"), { recursive: true, mode: 0o700 });
    mkdirSync(join(options.stateDir, "logs"), { recursive: true, mode: 0o700 });
    const pool = options.pool;
    if (pool && pool.size > 0) {
      this.pool = new WorkerPool({
        size: pool.size,
        command: this.command(pool.memoryMb),
        env: this.sharedEnv(pool.memoryMb, pool.env),
        cwd: options.dataRoot,
        logPathOf: (slot) => join(options.stateDir, "logs", `.pool-${slot}.log`),
        readyTimeoutMs: options.startTimeoutMs ?? 10_000,
      });
      if (existsSync(options.bundle)) this.pool.refill();
    }
  }

  /**
   * Ends the pooled workers waiting for a database (started ones are stop()'s business), and
   * resolves once they have exited.
   */
  async close(): Promise<void> {
    await this.pool?.shut();
  }

  /** node and the bundle, under RLIMIT_AS where prlimit exists. */
  private command(memoryMb: number): string[] {
    const node = [process.execPath, this.options.bundle];
    const addressSpace = (memoryMb + ADDRESS_SPACE_BASELINE_MB) * 1024 * 1024;
    return this.prlimit ? [this.prlimit, `--as=${addressSpace}`, "--", ...node] : node;
  }

  /** The environment a worker has from its start, whatever its database (pooled or not). */
  private sharedEnv(memoryMb: number, env: Record<string, string>): Record<string, string> {
    // Only what the worker needs: never the control plane's own secrets.
    return {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      DBFORGE_INSTANCE: this.options.instanceId,
      ...memoryEnv(memoryMb),
      ...env,
    };
  }

  /** What tells a worker which database it serves, and as whom. */
  private databaseEnv(spec: WorkerSpec, port: number): Record<string, string> {
    const owner = ownerOf(spec);
    return {
      SQLD_HTTP_LISTEN_ADDR: `127.0.0.1:${port}`,
      SQLD_DB_PATH: join(spec.dataDir, SQLD_DB_DIR),
      SQLD_AUTH_JWT_KEY: spec.jwtPublicKey,
      SQLD_IDLE_SHUTDOWN_TIMEOUT_S: String(spec.idleShutdownS),
      DBFORGE_WORKER_NAME: spec.name,
      DBFORGE_MAX_DB_BYTES: String(spec.quotaBytes),
      // The worker loads its code as the service user, then switches to the database's own
      // uid before it opens the database or accepts a connection (see the worker's privileges).
      ...(owner
        ? { DBFORGE_WORKER_UID: String(owner.uid), DBFORGE_WORKER_GID: String(owner.gid) }
        : {}),
    };
  }

  async check(): Promise<void> {
    if (!existsSync(this.options.bundle)) {
      throw new DomainError(
        "WORKER_START_FAILED",
        `The worker bundle ${this.options.bundle} is missing; build it with \`npm run build\``,
      );
    }
  }

  onExit(listener: (name: string) => void): void {
    this.exitListeners.push(listener);
  }

  async start(spec: WorkerSpec): Promise<StartedWorker> {
    await this.check();
    const lockDir = join(spec.dataDir, SQLD_DB_DIR);
    // A live worker of the database holds its lock; only then is there one to stop (a cold
    // start spares the scan of the process table). A process that has not taken it yet (an
    // orphan still loading) cannot take it once the new worker has: it exits.
    if (workerLockHeld(lockDir)) {
      await this.stop(spec.name);
      // Whatever stop could not reach (a worker of another control plane on the same files):
      // say so, rather than start a worker that the lock will refuse. A worker that has just
      // ended may hold the lock a moment longer.
      if (!(await lockReleased(lockDir, LOCK_RELEASE_MS))) {
        throw new DomainError(
          "WORKER_START_FAILED",
          `Another process still serves ${spec.name}'s files (it holds their worker lock)`,
        );
      }
    }
    // A port of the range can be taken by another program between our check and the worker's
    // bind: then the worker exits with EADDRINUSE and the next free port is tried.
    for (let attempt = 1; ; attempt++) {
      const port = await this.reservePort();
      try {
        return await this.launch(spec, port);
      } catch (err) {
        if (!(err instanceof PortTaken) || attempt >= PORT_ATTEMPTS) {
          throw err instanceof PortTaken ? err.failure : err;
        }
      } finally {
        this.reservedPorts.delete(port);
      }
    }
  }

  private async launch(spec: WorkerSpec, port: number): Promise<StartedWorker> {
    const pooled = this.poolFits(spec) ? this.pool?.take() : undefined;
    if (pooled) return this.claim(spec, port, pooled);
    const logPath = this.logPath(spec.name);
    const logOffset = existsSync(logPath) ? statSync(logPath).size : 0;
    // The database's variables last: a DBFORGE_* tunable of spec.env never renames a worker.
    const env = { ...this.sharedEnv(spec.memoryMb, spec.env), ...this.databaseEnv(spec, port) };
    const [command, ...args] = this.command(spec.memoryMb);
    let child: ChildProcess;
    try {
      secureDataDir(spec.dataDir, ownerOf(spec));
      const log = openSync(logPath, "a", 0o600);
      try {
        child = spawn(command as string, args, {
          detached: true,
          cwd: spec.dataDir,
          stdio: ["ignore", log, log],
          env,
        });
      } finally {
        closeSync(log);
      }
    } catch (err) {
      throw (
        diskError(err) ??
        new DomainError(
          "WORKER_START_FAILED",
          `Could not start the worker: ${(err as Error).message}`,
        )
      );
    }
    child.unref();
    // Recorded at once (port unknown yet): a control plane that dies during this start finds
    // the worker at its next start and reaps or adopts it.
    this.writePidFile(spec.name, { pid: child.pid ?? 0, port: 0 });
    this.watch(spec.name, child);
    const dead = () => child.exitCode !== null || child.signalCode !== null;
    const actualPort = await this.waitForListening(logPath, logOffset, dead);
    this.writePidFile(spec.name, { pid: child.pid ?? 0, port: actualPort });
    const url = `http://127.0.0.1:${actualPort}`;
    if (!(await waitForHealth(url, this.options.startTimeoutMs ?? 10_000, dead))) {
      // On a loaded machine a worker with a short idle timeout may stop when idle before the
      // first health check reaches it: it did start, and the next request starts it again.
      if (this.logTail(logPath, logOffset).includes('"msg":"idle shutdown"')) {
        return { id: String(child.pid ?? 0), url };
      }
      await this.stop(spec.name);
      throw new DomainError(
        "WORKER_START_FAILED",
        `The worker did not become healthy:\n${this.logTail(logPath, logOffset)}`,
      );
    }
    return { id: String(child.pid ?? 0), url };
  }

  /** Whether a pooled worker can serve `spec`: the pool's memory cap and environment. */
  private poolFits(spec: WorkerSpec): boolean {
    return this.options.pool !== undefined && fitsPool(this.options.pool, spec);
  }

  private watch(name: string, child: ChildProcess): void {
    this.children.set(name, child);
    child.once("exit", () => {
      if (this.children.get(name) !== child) return;
      this.children.delete(name);
      if (!this.stopping.has(name)) for (const listener of this.exitListeners) listener(name);
    });
  }

  /**
   * Gives a pooled worker its database: its output becomes the database's log, the pid file
   * names its slot before the claim is sent (a control plane that dies in between leaves an
   * unclaimed worker, which exits by itself), and the worker reports its port over IPC.
   */
  private async claim(
    spec: WorkerSpec,
    port: number,
    pooled: PooledWorker,
  ): Promise<StartedWorker> {
    const { child, slot } = pooled;
    const logPath = this.logPath(spec.name);
    let logOffset: number;
    try {
      secureDataDir(spec.dataDir, ownerOf(spec));
      // The database's earlier log is kept one generation back.
      if (existsSync(logPath)) renameSync(logPath, `${logPath}.1`);
      renameSync(pooled.logPath, logPath);
      logOffset = statSync(logPath).size;
      this.writePidFile(spec.name, { pid: child.pid ?? 0, port: 0, slot });
    } catch (err) {
      child.kill("SIGKILL");
      throw (
        diskError(err) ??
        new DomainError(
          "WORKER_START_FAILED",
          `Could not start the worker: ${(err as Error).message}`,
        )
      );
    }
    this.watch(spec.name, child);
    const dead = () => child.exitCode !== null || child.signalCode !== null;
    let told = false;
    const listening = new Promise<number>((resolve) => {
      child.on("message", (message: { type?: string; port?: number }) => {
        if (message?.type === "listening" && typeof message.port === "number") {
          told = true;
          resolve(message.port);
        }
      });
    });
    child.send({ type: "claim", env: this.databaseEnv(spec, port) });
    const actualPort = await Promise.race([
      listening,
      // Fails (the worker exited, or took too long) with the reason from its log; stops
      // looking once the worker has told.
      this.waitForListening(logPath, logOffset, dead, () => told),
    ]);
    this.writePidFile(spec.name, { pid: child.pid ?? 0, port: actualPort, slot });
    // It said so itself once it listened: no health check to wait for.
    return { id: String(child.pid ?? 0), url: `http://127.0.0.1:${actualPort}` };
  }

  private writePidFile(name: string, fields: { pid: number; port: number; slot?: string }): void {
    const pidFile: PidFile = {
      ...fields,
      instance: this.options.instanceId,
      startedAt: Date.now(),
    };
    writeFileSync(this.pidPath(name), JSON.stringify(pidFile), { mode: 0o600 });
  }

  async status(name: string): Promise<WorkerStatus> {
    const pidFile = this.readPidFile(name);
    if (!pidFile) return { state: "missing" };
    // Port 0: a start that never finished (its control plane died); start() replaces it.
    if (pidFile.port === 0) return { state: "missing" };
    const state = this.ourState(pidFile.pid, name, pidFile.slot);
    if (state) {
      return {
        state: "running",
        id: String(pidFile.pid),
        url: `http://127.0.0.1:${pidFile.port}`,
        ...(state === "suspended" ? { suspended: true } : {}),
      };
    }
    const log = this.logTail(this.logPath(name), 0, 4000);
    const lastStart = log.lastIndexOf('"msg":"listening"');
    return {
      state: "exited",
      idle: log.indexOf('"msg":"idle shutdown"', lastStart) >= 0,
      detail: log,
    };
  }

  /**
   * Stops every process of this database's worker: the one its pid file names and any other the
   * process table shows (a start whose pid file was lost); SIGTERM, SIGKILL after the grace.
   */
  async stop(name: string): Promise<void> {
    const scanned = scanWorkers(this.options.instanceId);
    const pidFile = this.readPidFile(name);
    const slot = pidFile?.slot;
    const pids = new Set([
      ...(scanned.byName.get(name) ?? []),
      ...(slot ? (scanned.bySlot.get(slot) ?? []) : []),
    ]);
    if (pidFile && this.isOurs(pidFile.pid, name, slot)) pids.add(pidFile.pid);
    if (pids.size === 0) return;
    this.stopping.add(name);
    try {
      await Promise.all([...pids].map((pid) => this.terminate(pid, name, slot)));
    } finally {
      this.stopping.delete(name);
    }
  }

  /**
   * SIGTERM, then SIGKILL after the grace. `pid` was just found to be the worker; from then on
   * it is waited for as long as it lives at all: an exiting process loses its memory (and with
   * it /proc/<pid>/environ, its identity) before its files, and so its worker lock. Its pid
   * cannot be another process's before it has been reaped.
   */
  private async terminate(pid: number, name: string, slot: string | undefined): Promise<void> {
    try {
      process.kill(pid, "SIGTERM");
      // As systemd does: a stopped process (SIGSTOP, a debugger let go) acts on its SIGTERM
      // only once continued; without this it waits out the whole grace. (Windows has no
      // stopped processes, nor SIGCONT.)
      if (process.platform !== "win32") process.kill(pid, "SIGCONT");
      const deadline = Date.now() + (this.options.stopTimeoutMs ?? 15_000);
      while (alive(pid) && Date.now() < deadline) await sleep(25);
      if (this.isOurs(pid, name, slot)) process.kill(pid, "SIGKILL");
      while (alive(pid)) await sleep(10);
    } catch {
      // already gone
    }
  }

  async remove(name: string): Promise<void> {
    await this.stop(name);
    rmSync(this.pidPath(name), { force: true });
    rmSync(this.logPath(name), { force: true });
    rmSync(join(this.options.dataRoot, name, LEGACY_PID_FILE), { force: true });
  }

  /** Databases with a worker: a live process in the table, or a pid file of this instance. */
  async list(): Promise<string[]> {
    // Claimed pooled workers are known by their pid files (their slots), below.
    const names = new Set(scanWorkers(this.options.instanceId).byName.keys());
    for (const file of readdirSync(join(this.options.stateDir, "workers"))) {
      if (file.endsWith(".json")) names.add(file.slice(0, -".json".length));
    }
    if (existsSync(this.options.dataRoot)) {
      for (const entry of readdirSync(this.options.dataRoot)) {
        if (existsSync(join(this.options.dataRoot, entry, LEGACY_PID_FILE))) names.add(entry);
      }
    }
    return [...names];
  }

  private pidPath(name: string): string {
    return join(this.options.stateDir, "workers", `${name}.json`);
  }

  private logPath(name: string): string {
    return join(this.options.stateDir, "logs", `${name}.log`);
  }

  private readPidFile(name: string): PidFile | undefined {
    for (const path of [this.pidPath(name), join(this.options.dataRoot, name, LEGACY_PID_FILE)]) {
      try {
        const parsed = JSON.parse(readFileSync(path, "utf8")) as PidFile;
        if (parsed.instance === this.options.instanceId) return parsed;
      } catch {
        // missing or unreadable: try the next place
      }
    }
    return undefined;
  }

  /**
   * Alive, not a zombie, and really this database's worker (not a recycled pid). Without /proc
   * a pid cannot be told from a recycled one by its environment; then it is ours if this
   * process started it and it has not exited, or (adopted after a restart) if the database's
   * worker lock is held: only a live worker of this database holds it.
   */
  private isOurs(pid: number, name: string, slot?: string): boolean {
    return this.ourState(pid, name, slot) !== undefined;
  }

  /** isOurs, and then whether it runs or is suspended. */
  private ourState(pid: number, name: string, slot?: string): "running" | "suspended" | undefined {
    const state = workerState(pid, name, this.options.instanceId, slot);
    if (!state || HAS_PROC) return state;
    const child = this.children.get(name);
    if (child?.pid === pid)
      return child.exitCode === null && child.signalCode === null ? state : undefined;
    return workerLockHeld(join(this.options.dataRoot, name, SQLD_DB_DIR)) ? state : undefined;
  }

  /** The worker logs {"msg":"listening","addr":"host:port"} once it accepts connections. */
  private async waitForListening(
    logPath: string,
    offset: number,
    dead: () => boolean,
    /** Known some other way (the answer then goes unused): no more polling. */
    known: () => boolean = () => false,
  ): Promise<number> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      if (known()) return -1;
      const log = this.logTail(logPath, offset, 64 * 1024);
      const match = /"msg":"listening","addr":"[^"]*:(\d+)"/.exec(log);
      if (match) return Number(match[1]);
      if (dead()) {
        const failure = new DomainError(
          "WORKER_START_FAILED",
          `The worker exited during start-up:\n${log.trim()}`,
        );
        if (/EADDRINUSE|EADDRNOTAVAIL/.test(log)) {
          throw new PortTaken(new DomainError("PORT_EXHAUSTED", failure.message));
        }
        throw diskError(failure) ?? failure;
      }
      await sleep(10);
    }
    throw new DomainError(
      "WORKER_START_FAILED",
      `The worker did not start within the time limit:\n${this.logTail(logPath, offset)}`,
    );
  }

  private logTail(logPath: string, offset: number, max = 2000): string {
    return readLogTail(logPath, offset, max);
  }

  /**
   * 0 (any free port: the worker binds it and reports it) without a range; else a free port of
   * the range that no other start holds. The reservation is taken synchronously, before the
   * check awaits, so parallel starts never pick the same port; it is released once the worker
   * has bound the port (or failed).
   */
  private async reservePort(): Promise<number> {
    const range = this.options.ports;
    if (!range) return 0;
    for (let port = range.from; port <= range.to; port++) {
      if (this.reservedPorts.has(port)) continue;
      this.reservedPorts.add(port);
      if (await isFree(port)) return port;
      this.reservedPorts.delete(port);
    }
    throw new DomainError(
      "PORT_EXHAUSTED",
      `Every port in DBFORGE_WORKER_PORTS (${range.from}-${range.to}) is in use`,
    );
  }
}

/** The database's own uid and gid, when workers get one (DB-Forge runs as root). */
function ownerOf(spec: WorkerSpec): { uid: number; gid: number } | null {
  return spec.uid === null ? null : { uid: spec.uid, gid: spec.uid };
}

function findExecutable(name: string): string | undefined {
  if (process.platform !== "linux") return undefined;
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a stopped worker's lock may take to be released. */
const LOCK_RELEASE_MS = 2000;

async function lockReleased(lockDir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (workerLockHeld(lockDir)) {
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}
