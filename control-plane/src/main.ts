/**
 * The DB-Forge control plane: database registry and worker lifecycle. Configured from the
 * environment (see ./env.ts); SIGTERM/SIGINT stop it gracefully.
 */
import { installLastResortHandlers } from "../../core/process";
import { parseEnv } from "./env";
import { startControlPlane } from "./service";

async function main(): Promise<void> {
  installLastResortHandlers("control-plane");
  const config = parseEnv(process.env);
  const cp = await startControlPlane(config);
  console.log(
    JSON.stringify({
      msg: "control plane listening",
      url: cp.url,
      driver: cp.driver.kind,
      adminToken: cp.adminTokenSource,
    }),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(JSON.stringify({ msg: "control plane shutting down", signal }));
    cp.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
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
