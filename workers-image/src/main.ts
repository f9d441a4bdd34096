/**
 * The DB-Forge worker: serves one libSQL database over the Hrana protocol, configured like sqld.
 * SIGTERM/SIGINT stop it gracefully; a second signal exits at once.
 */
import { parseEnv } from "./env";
import { startWorker } from "./server";

async function main(): Promise<void> {
  const config = parseEnv(process.env);
  const worker = await startWorker(config);
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
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(JSON.stringify({ msg: "shutting down", signal }));
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
