import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "../../control-plane/src/env";
import { startControlPlane } from "../../control-plane/src/service";
import { installLastResortHandlers } from "../../core/process";
import { startFunctionsHost } from "../../functions/host/node";

/** Settings the functions host takes from the environment (its Worker bindings elsewhere). */
const FUNCTIONS_BINDINGS = ["DBFORGE_PUBLIC_URL", "RESOLVE_CACHE_MS", "MAX_BODY_BYTES"];

/**
 * DB-Forge on its embedded default: the control plane (process driver unless configured
 * otherwise) and the functions host in this process. Ctrl-C stops both and every worker.
 */
export async function startCommand(
  env: NodeJS.ProcessEnv,
  flags: { port?: string; dataDir?: string; driver?: string },
): Promise<void> {
  // This process hosts the control plane and the functions: one bad request must not end both.
  installLastResortHandlers("dbforge");
  const bundled = resolve(import.meta.dirname, "../worker/worker.mjs");
  const config = parseEnv({
    ...env,
    ...(flags.dataDir ? { DBFORGE_DATA_DIR: flags.dataDir } : {}),
    ...(flags.driver ? { DBFORGE_DRIVER: flags.driver } : {}),
    // The worker bundle next to this CLI bundle (dist/), wherever it is started from.
    ...(!env.DBFORGE_WORKER_BUNDLE && existsSync(bundled)
      ? { DBFORGE_WORKER_BUNDLE: bundled }
      : {}),
  });
  const listen = flags.port
    ? `127.0.0.1:${flags.port}`
    : (env.DBFORGE_LISTEN_ADDR ?? "127.0.0.1:8787");
  const match = /^(.*):(\d{1,5})$/.exec(listen);
  if (!match) throw new Error(`DBFORGE_LISTEN_ADDR: expected host:port, got "${listen}"`);

  const cp = await startControlPlane(config);
  const bindings: Record<string, unknown> = { CONTROL_PLANE_URL: cp.url };
  for (const key of FUNCTIONS_BINDINGS) if (env[key]) bindings[key] = env[key];
  const host = await startFunctionsHost({
    env: bindings,
    hostname: match[1] || "127.0.0.1",
    port: Number(match[2]),
    consoleDir: resolve(import.meta.dirname, "../console"),
  });

  console.log(`DB-Forge is running (${config.DBFORGE_DRIVER} driver, data in ${config.dataDir})
  API          ${host.url}
  API docs     ${host.url}/docs
  Console      ${host.url}/
  Admin token  ${cp.adminTokenSource}
Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log("stopping DB-Forge…");
    await host.close();
    await cp.close();
    console.log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}
