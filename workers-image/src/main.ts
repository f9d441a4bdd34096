/**
 * The DB-Forge worker: serves one libSQL database over the Hrana protocol, configured like sqld.
 * SIGTERM/SIGINT stop it gracefully; a second signal exits at once.
 */
import { installLastResortHandlers } from "../../core/process";
import { parseEnv } from "./env";
import { dropPrivileges } from "./privileges";
import { startWorker } from "./server";

async function main(): Promise<void> {
  installLastResortHandlers("worker");
  const config = parseEnv(process.env);
  dropPrivileges(config.runAs);
  let stop: (reason: string) => void = () => {};
  const worker = await startWorker(config, { onIdle: () => stop("idle") });
  const { host } = config.SQLD_HTTP_LISTEN_ADDR;
  console.log(
    JSON.stringify({
      msg: "listening",
      addr: `${host}:${worker.port}`,
      db: config.dbFile,
      auth: Boolean(config.jwtKey),
    }),
  );
  let stopping = false;
  stop = (reason: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    // The control plane reads this line to tell an idle stop from a crash.
    console.log(
      JSON.stringify({ msg: reason === "idle" ? "idle shutdown" : "shutting down", reason }),
    );
    worker.shutdown().then(
      () => process.exit(0),
      (err) => {
        console.error("shutdown failed", err);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
