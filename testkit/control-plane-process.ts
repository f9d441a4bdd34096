/** The control plane started as its own process from the built bundle (`npm run build`). */
import { type ChildProcess, spawn } from "node:child_process";
import { chownSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { engineEnv } from "./engine";
import { CONTROL_PLANE_BUNDLE, WORKER_BUNDLE } from "./paths";
import { makeTempDir } from "./temp";

export interface ControlPlaneProcess {
  url: string;
  dataDir: string;
  adminToken: string;
  process: ChildProcess;
  output: string[];
  /** Calls the control plane API with the admin token. */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export interface ControlPlaneProcessOptions {
  /** Default: a new temporary directory (the caller removes it). */
  dataDir?: string;
  env?: Record<string, string>;
  /** Run as this (non-root) user; the data directory is given to it. */
  user?: { uid: number; gid: number };
}

/**
 * Control planes started by this test process and not yet exited: killed when it exits, so a
 * failed test (one that never reaches its stop) leaves none running for the rest of the run.
 */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts the control plane (process driver unless `env` says otherwise) and resolves once it listens. */
export async function startControlPlaneProcess(
  options: ControlPlaneProcessOptions = {},
): Promise<ControlPlaneProcess> {
  const dataDir = options.dataDir ?? makeTempDir("cp");
  if (options.user) chownSync(dataDir, options.user.uid, options.user.gid);
  const child = spawn(process.execPath, [CONTROL_PLANE_BUNDLE], {
    ...(options.user ?? {}),
    env: {
      PATH: process.env.PATH,
      ...engineEnv,
      DBFORGE_DATA_DIR: dataDir,
      DBFORGE_CONTROL_PLANE_ADDR: "127.0.0.1:0",
      DBFORGE_WORKER_BUNDLE: WORKER_BUNDLE,
      DBFORGE_HEALTH_INTERVAL_MS: "200",
      DBFORGE_HEALTH_PROBE_INTERVAL_MS: "200",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr }).on("line", (line) => output.push(line));
  running.add(child);
  const exited = new Promise<number | null>((done) =>
    child.once("exit", (code) => {
      running.delete(child);
      done(code);
    }),
  );
  const url = await new Promise<string>((ready, fail) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line);
      const match = /"msg":"control plane listening","url":"([^"]+)"/.exec(line);
      if (match?.[1]) ready(match[1]);
    });
    exited.then((code) =>
      fail(new Error(`control plane exited with ${code}:\n${output.join("\n")}`)),
    );
  });
  const adminToken =
    options.env?.DBFORGE_ADMIN_TOKEN ??
    readFileSync(join(dataDir, ".control-plane/admin-token"), "utf8").trim();
  return {
    url,
    dataDir,
    adminToken,
    process: child,
    output,
    api(method, path, body, token = adminToken) {
      const headers: Record<string, string> = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return fetch(`${url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
