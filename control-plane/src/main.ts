/**
 * The DB-Forge control plane: database registry and worker lifecycle. Configured from the
 * environment (see ./env.ts); SIGTERM/SIGINT stop it gracefully.
 */
import { runMain } from "../../core/run-main";
import { parseEnv } from "./env";
import { startControlPlane } from "./service";

runMain("control plane", async () => {
  const cp = await startControlPlane(parseEnv(process.env));
  console.log(
    JSON.stringify({
      msg: "control plane listening",
      url: cp.url,
      driver: cp.driver.kind,
      adminToken: cp.adminTokenSource,
    }),
  );
  return { stop: () => cp.close() };
});
