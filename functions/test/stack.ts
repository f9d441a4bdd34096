/**
 * A real DB-Forge stack for the API tests: the control plane (process driver) as its own
 * process, and the functions in both runtimes the suite runs against: the Node host and one
 * Miniflare instance (a worker per entry behind the router).
 */
import { resolve } from "node:path";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../control-plane/test/control-plane-process";
import { removeDir } from "../../workers-image/test/worker-process";
import { startMiniflareFunctions } from "../host/miniflare";
import { startFunctionsHost } from "../host/node";

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

export async function startStack(
  controlPlaneEnv: Record<string, string> = {},
  functionsBindings: Record<string, string> = {},
): Promise<Stack> {
  const cp = await startControlPlaneProcess({ env: controlPlaneEnv });
  const bindings = {
    CONTROL_PLANE_URL: cp.url,
    MAX_BODY_BYTES: "1048576",
    RESOLVE_CACHE_MS: "5000",
    ...functionsBindings,
  };
  const consoleDir = resolve(import.meta.dirname, "../../dist/console");
  const node = await startFunctionsHost({
    env: bindings,
    hostname: "127.0.0.1",
    port: 0,
    consoleDir,
  });
  const miniflare = await startMiniflareFunctions(bindings, { consoleDir });
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

/** The body of a problem+json response, after checking it is one. */
export async function problemOf(
  res: Response,
): Promise<{ code: string; status: number; detail: string; title: string; type: string }> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${res.status} ${type}: ${await res.text()}`);
  }
  return res.json() as Promise<{
    code: string;
    status: number;
    detail: string;
    title: string;
    type: string;
  }>;
}

let unique = 0;
/** A database name no other test uses. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
