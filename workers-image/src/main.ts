/**
 * The DB-Forge worker: serves one libSQL database over the Hrana protocol, configured like sqld.
 * SIGTERM/SIGINT stop it gracefully; a second signal exits at once.
 */
import { mkdirSync } from "node:fs";
import { runMain } from "../../core/run-main";
import { selectEngine } from "../../core/sqlite/index";
import { acquireWorkerLock } from "../../core/worker-lock";
import { parseEnv } from "./env";
import { dropPrivileges } from "./privileges";
import { startWorker } from "./server";

runMain(
  "worker",
  async (stop) => {
    const config = parseEnv(process.env);
    // Loaded before privileges are dropped: the worker's own user may not read node_modules.
    const engine = selectEngine(config.DBFORGE_ENGINE);
    dropPrivileges(config.runAs);
    // Before anything touches the database: one worker per database, ever.
    mkdirSync(config.SQLD_DB_PATH, { recursive: true });
    acquireWorkerLock(config.SQLD_DB_PATH);
    const worker = await startWorker(config, { onIdle: () => stop("idle") });
    const { host } = config.SQLD_HTTP_LISTEN_ADDR;
    console.log(
      JSON.stringify({
        msg: "listening",
        addr: `${host}:${worker.port}`,
        db: config.dbFile,
        auth: Boolean(config.jwtKey),
        engine: `${engine.name} (libsql-js ${engine.version})`,
      }),
    );
    return { stop: () => worker.shutdown() };
  },
  {
    // The control plane reads this line to tell an idle stop from a crash.
    stopMessage: (reason) =>
      JSON.stringify({ msg: reason === "idle" ? "idle shutdown" : "shutting down", reason }),
  },
);
