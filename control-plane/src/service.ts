import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import Dockerode from "dockerode";
import { loadAdminToken } from "./admin-token";
import { buildControlPlaneApp } from "./app";
import { DockerDriver } from "./drivers/docker";
import { ProcessDriver } from "./drivers/process";
import type { WorkerDriver } from "./drivers/types";
import type { ControlPlaneConfig } from "./env";
import { KeyRing } from "./keys";
import { DatabaseManager } from "./manager";
import { Registry } from "./registry";

export interface RunningControlPlane {
  url: string;
  port: number;
  adminToken: string;
  adminTokenSource: string;
  manager: DatabaseManager;
  driver: WorkerDriver;
  /** Graceful stop; stops the workers too when configured to. */
  close(): Promise<void>;
}

/** Everything the control plane keeps for itself lives here, away from database directories. */
export const STATE_DIR = ".control-plane";

export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const stateDir = join(config.dataDir, STATE_DIR);
  // Identifies this control plane's workers on a shared Docker engine or machine; stable across
  // restarts because it is derived from the data directory.
  const instanceId = createHash("sha256").update(config.dataDir).digest("hex").slice(0, 10);
  const registry = new Registry(join(stateDir, "registry.db"));
  const keys = KeyRing.load(join(stateDir, "root-ed25519.pem"));
  const admin = loadAdminToken(config.DBFORGE_ADMIN_TOKEN, join(stateDir, "admin-token"));
  const driver = createDriver(config, instanceId);
  const workerEnv: Record<string, string> = {};
  if (config.DBFORGE_QUERY_TIMEOUT_MS)
    workerEnv.DBFORGE_QUERY_TIMEOUT_MS = String(config.DBFORGE_QUERY_TIMEOUT_MS);
  const manager = new DatabaseManager(registry, driver, keys, {
    dataRoot: config.dataDir,
    idleTimeoutS: config.DBFORGE_IDLE_TIMEOUT_S,
    healthIntervalMs: config.DBFORGE_HEALTH_INTERVAL_MS,
    resolveTokenTtlS: config.DBFORGE_RESOLVE_TOKEN_TTL_S,
    workerEnv,
  });
  await manager.start();
  const app = buildControlPlaneApp({ manager, adminToken: admin.token, driver: driver.kind });
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const s = serve(
      { fetch: app.fetch, hostname: config.listen.host, port: config.listen.port },
      () => ready(s),
    );
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.listen.port;
  return {
    url: `http://${config.listen.host}:${port}`,
    port,
    adminToken: admin.token,
    adminTokenSource: admin.source,
    manager,
    driver,
    async close() {
      await new Promise<void>((done) => server.close(() => done()));
      await manager.shutdown(config.stopWorkersOnExit);
      registry.close();
    },
  };
}

function createDriver(config: ControlPlaneConfig, instanceId: string): WorkerDriver {
  if (config.DBFORGE_DRIVER === "docker") {
    return new DockerDriver({
      docker: new Dockerode({ socketPath: config.DBFORGE_DOCKER_SOCKET }),
      image: config.DBFORGE_WORKER_IMAGE,
      instanceId,
      dataRoot: config.dataDir,
      ...(config.DBFORGE_HOST_DATA_DIR ? { hostDataRoot: config.DBFORGE_HOST_DATA_DIR } : {}),
      ...(config.DBFORGE_DOCKER_NETWORK ? { network: config.DBFORGE_DOCKER_NETWORK } : {}),
      ...(config.DBFORGE_TRAEFIK_DOMAIN ? { traefikDomain: config.DBFORGE_TRAEFIK_DOMAIN } : {}),
      memoryMb: config.DBFORGE_WORKER_MEMORY_MB,
      cpus: config.DBFORGE_WORKER_CPUS,
      ...(process.getuid && process.getgid
        ? { user: `${process.getuid()}:${process.getgid()}` }
        : {}),
    });
  }
  return new ProcessDriver({
    dataRoot: config.dataDir,
    bundle: resolve(config.DBFORGE_WORKER_BUNDLE),
    instanceId,
    ...(config.DBFORGE_WORKER_PORTS ? { ports: config.DBFORGE_WORKER_PORTS } : {}),
  });
}
