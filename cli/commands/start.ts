import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseControlPlaneEnv, startControlPlane } from "../../control-plane/index";
import { parseListenAddress } from "../../core/listen-address";
import { runMain } from "../../core/run-main";
import { FUNCTIONS_SETTINGS, startFunctionsHost } from "../../functions/host/index";

/**
 * DB-Forge on its embedded default: the control plane (process driver unless configured
 * otherwise) and the functions host in this process. Ctrl-C (or SIGTERM) stops both and every
 * worker.
 */
export function startCommand(
  env: NodeJS.ProcessEnv,
  flags: { port?: string; dataDir?: string; driver?: string },
): void {
  runMain(
    "dbforge",
    async () => {
      const bundled = resolve(import.meta.dirname, "../worker/worker.cjs");
      const config = parseControlPlaneEnv({
        ...env,
        ...(flags.dataDir ? { DBFORGE_DATA_DIR: flags.dataDir } : {}),
        ...(flags.driver ? { DBFORGE_DRIVER: flags.driver } : {}),
        // The worker bundle next to this CLI bundle (dist/), wherever it is started from.
        ...(!env.DBFORGE_WORKER_BUNDLE && existsSync(bundled)
          ? { DBFORGE_WORKER_BUNDLE: bundled }
          : {}),
      });
      const listen = parseListenAddress(
        flags.port ? `127.0.0.1:${flags.port}` : (env.DBFORGE_LISTEN_ADDR ?? "127.0.0.1:8787"),
      );

      const cp = await startControlPlane(config);
      const bindings: Record<string, unknown> = { CONTROL_PLANE_URL: cp.url };
      for (const key of FUNCTIONS_SETTINGS)
        if (env[key] && key !== "CONTROL_PLANE_URL") bindings[key] = env[key];
      const host = await startFunctionsHost({
        env: bindings,
        hostname: listen.host,
        port: listen.port,
        consoleDir: resolve(import.meta.dirname, "../console"),
      }).catch(async (err) => {
        await cp.close();
        throw err;
      });

      console.log(`DB-Forge is running (${config.DBFORGE_DRIVER} driver, data in ${config.dataDir})
  API          ${host.url}
  API docs     ${host.url}/docs
  Console      ${host.url}/
  Admin token  ${cp.adminTokenSource}
Press Ctrl-C to stop.`);
      return {
        async stop() {
          await host.close();
          await cp.close();
          console.log("stopped");
        },
      };
    },
    { stopMessage: () => "stopping DB-Forge…" },
  );
}
