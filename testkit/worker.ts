/** A worker started as its own process from the built bundle (`npm run build`), and test keys. */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { signJwt, type TokenClaims } from "../core/jwt";
import { engineEnv } from "./engine";
import { WORKER_BUNDLE } from "./paths";
import { makeTempDir, removeDir } from "./temp";

export interface WorkerProcess {
  url: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Output lines so far (stdout and stderr). */
  output: string[];
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for exit. */
  kill(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** Default: a new temporary directory (the caller removes it). */
  dataDir?: string;
  env?: Record<string, string>;
  /** Default: any free port. */
  port?: number;
  /** Default: the built bundle in dist/. */
  bundle?: string;
}

/** Starts the worker bundle and resolves once it listens. */
export async function startWorkerProcess(
  options: WorkerProcessOptions = {},
): Promise<WorkerProcess> {
  const dataDir = options.dataDir ?? makeTempDir("worker");
  const child = spawn(process.execPath, [options.bundle ?? WORKER_BUNDLE], {
    env: {
      PATH: process.env.PATH,
      ...engineEnv,
      SQLD_HTTP_LISTEN_ADDR: `127.0.0.1:${options.port ?? 0}`,
      SQLD_DB_PATH: join(dataDir, "data.sqld"),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr }).on("line", (line) => output.push(line));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const port = await new Promise<number>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      output.push(line);
      const match = /"addr":"[^"]*:(\d+)"/.exec(line);
      if (match) resolvePort(Number(match[1]));
    });
    exited.then((code) => reject(new Error(`worker exited with ${code}:\n${output.join("\n")}`)));
  }).catch((err: unknown) => {
    // A start that fails leaves the caller nothing to clean up with: a directory made here goes.
    if (!options.dataDir) removeDir(dataDir);
    throw err;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    output,
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

/** An Ed25519 key pair in the forms the worker accepts, with a token minter. */
export function testKeys(): {
  publicPem: string;
  privateKey: KeyObject;
  token(claims?: TokenClaims): string;
} {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKey,
    token: (claims = {}) => signJwt(privateKey, claims),
  };
}
