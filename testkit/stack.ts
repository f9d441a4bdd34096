/**
 * A real DB-Forge stack for the API tests: the control plane (process driver) as its own
 * process, and the functions in both runtimes the suite runs against: the Node host and one
 * Miniflare instance (a worker per entry behind the router).
 */
import { startMiniflareFunctions } from "../functions/host/miniflare";
import { startFunctionsHost } from "../functions/host/node";
import { type ControlPlaneProcess, startControlPlaneProcess } from "./control-plane-process";
import { CONSOLE_DIR } from "./paths";
import { removeDir } from "./temp";

export type RuntimeName = "node" | "miniflare";
export const RUNTIMES: RuntimeName[] = ["node", "miniflare"];

export interface Runtime {
  name: RuntimeName;
  url: string;
  /** fetch against this runtime; a JSON body is serialized, the admin token sent unless `token` is null. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; raw?: string },
  ): Promise<Response>;
}

export interface Stack {
  cp: ControlPlaneProcess;
  adminToken: string;
  runtimes: Record<RuntimeName, Runtime>;
  close(): Promise<void>;
}

/** Tests send bursts far past a person's pace; the rate-limit tests set their own limits. */
export const NO_RATE_LIMITS = { RATE_LIMIT_PER_CREDENTIAL: "0", RATE_LIMIT_PER_DATABASE: "0" };

export async function startStack(
  controlPlaneEnv: Record<string, string> = {},
  functionsBindings: Record<string, string> = {},
): Promise<Stack> {
  const cp = await startControlPlaneProcess({
    // Usage shows within a second (tests wait for it).
    env: { DBFORGE_USAGE_FLUSH_MS: "250", DBFORGE_USAGE_INTERVAL_MS: "250", ...controlPlaneEnv },
  });
  const bindings = {
    CONTROL_PLANE_URL: cp.url,
    MAX_BODY_BYTES: "1048576",
    RESOLVE_CACHE_MS: "5000",
    ...NO_RATE_LIMITS,
    LOG_LEVEL: "warn",
    ...functionsBindings,
  };
  const node = await startFunctionsHost({
    env: bindings,
    hostname: "127.0.0.1",
    port: 0,
    consoleDir: CONSOLE_DIR,
  });
  const miniflare = await startMiniflareFunctions(bindings, { consoleDir: CONSOLE_DIR });
  const runtime = (name: RuntimeName, url: string): Runtime => ({
    name,
    url,
    call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      const token = options.token === undefined ? cp.adminToken : options.token;
      if (token) headers.Authorization = `Bearer ${token}`;
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(options.body);
      } else if (options.raw !== undefined) headers["Content-Type"] = "application/json";
      return fetch(`${url}${path}`, { method, headers, body });
    },
  });
  return {
    cp,
    adminToken: cp.adminToken,
    runtimes: { node: runtime("node", node.url), miniflare: runtime("miniflare", miniflare.url) },
    async close() {
      await Promise.allSettled([node.close(), miniflare.close()]);
      await cp.stop();
      removeDir(cp.dataDir);
    },
  };
}

let unique = 0;
/** A database name no other test uses. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
