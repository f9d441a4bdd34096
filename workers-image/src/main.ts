/**
 * The DB-Forge worker: serves one libSQL database over the Hrana protocol, configured like sqld.
 * SIGTERM/SIGINT stop it gracefully; a second signal exits at once.
 *
 * Pooled (DBFORGE_POOL_SLOT set: by the process driver with an IPC channel, by the Docker
 * driver with DBFORGE_POOL_SECRET, see ./pool-channel.ts): the worker loads its code and engine
 * and waits for a claim carrying the database's environment; then it starts exactly as an
 * ordinary worker would, reports its port, and lets go of the channel (it outlives the control
 * plane like any worker). Unclaimed, it exits once its control plane is gone, and it serves
 * exactly one database in its life.
 */
import { mkdirSync } from "node:fs";
import { runMain } from "../../core/run-main";
import { selectEngine } from "../../core/sqlite/index";
import { acquireWorkerLock } from "../../core/worker-lock";
import { checkDatabaseFile } from "./engine/check-file";
import { engineSandbox } from "./engine/database";
import { parseCheckEnv, parseEnv, parsePoolEnv } from "./env";
import { log, logLine, setLogLevel } from "./log";
import { httpChannel, ipcChannel, type PoolChannel } from "./pool-channel";
import { dropPrivileges } from "./privileges";
import { rehearse } from "./rehearsal";
import { startWorker } from "./server";

const pool = parsePoolEnv(process.env);
const channel: PoolChannel | undefined =
  pool.slot === undefined
    ? undefined
    : pool.http
      ? httpChannel(pool.http)
      : process.send
        ? ipcChannel()
        : undefined;

/** Flag of the one-shot mode the control plane uses to check an uploaded file (engine/check-file.ts). */
const CHECK_FILE = "--check-file";

if (process.argv[2] === CHECK_FILE) checkFileAndExit(process.argv[3] ?? "");
else serve();

function checkFileAndExit(path: string): void {
  const config = parseCheckEnv(process.env);
  selectEngine(config.engine);
  process.umask(0o077);
  process.stdout.write(`${JSON.stringify(checkDatabaseFile(path, config.heapLimitBytes))}\n`);
}

function serve(): void {
  runMain(
    "worker",
    async (stop) => {
      if (channel) Object.assign(process.env, await claim(channel));
      const config = parseEnv(process.env);
      setLogLevel(config.DBFORGE_LOG_LEVEL);
      // Loaded before privileges are dropped: the worker's own user may not read node_modules.
      const engine = selectEngine(config.DBFORGE_ENGINE);
      dropPrivileges(config.runAs);
      // Before anything touches the database: one worker per database, ever.
      mkdirSync(config.SQLD_DB_PATH, { recursive: true });
      acquireWorkerLock(config.SQLD_DB_PATH);
      const worker = await startWorker(config, { onIdle: () => stop("idle") });
      const { host } = config.SQLD_HTTP_LISTEN_ADDR;
      // Always written, whatever the level: the drivers read the port from this line.
      console.log(
        logLine("info", "listening", {
          addr: `${host}:${worker.port}`,
          db: config.dbFile,
          auth: Boolean(config.jwtKey),
          engine: `${engine.name} (libsql-js ${engine.version})`,
        }),
      );
      channel?.listening(worker.port);
      return { stop: () => worker.shutdown() };
    },
    {
      // The control plane reads this line to tell an idle stop from a crash.
      stopMessage: (reason) =>
        logLine("info", reason === "idle" ? "idle shutdown" : "shutting down", { reason }),
    },
  );
}

/** Waits for the database's environment; exits if the control plane goes away first. */
async function claim(channel: PoolChannel): Promise<Record<string, string>> {
  // Done now, while the pool waits, so that a claim only opens the database: load the engine,
  // build its sandbox, and serve a throwaway database once (see ./rehearsal.ts).
  selectEngine(pool.engine);
  engineSandbox();
  await rehearse().catch((err: Error) => log("error", "rehearsal failed", { error: err.message }));
  // What the rehearsal left is garbage, and nothing collects it otherwise: an idle pooled worker
  // allocates nothing, so V8 never runs a major GC nor its memory reducer. Collected, a pooled
  // worker ends where a freshly started one does; kept, it cost 0.5 MiB more for its life
  // (bench/density.ts). `gc` is there when the driver gave --expose-gc (memoryEnv).
  (globalThis as { gc?: () => void }).gc?.();
  return channel.claimed();
}
