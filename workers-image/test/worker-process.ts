import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { signJwt, type TokenClaims } from "../../core/jwt";

/** The bundled worker (`npm run build`), run exactly as the process driver and the image run it. */
export const WORKER_BUNDLE = resolve(import.meta.dirname, "../../dist/worker/worker.mjs");

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

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  port?: number;
}

export async function startWorkerProcess(options: StartOptions = {}): Promise<WorkerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "dbforge-worker-"));
  const child = spawn(process.execPath, [WORKER_BUNDLE], {
    env: {
      PATH: process.env.PATH,
      SQLD_HTTP_LISTEN_ADDR: `127.0.0.1:${options.port ?? 0}`,
      SQLD_DB_PATH: join(dataDir, "data.sqld"),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const port = await new Promise<number>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      output.push(line);
      const match = /"addr":"[^"]*:(\d+)"/.exec(line);
      if (match) resolvePort(Number(match[1]));
    });
    exited.then((code) => reject(new Error(`worker exited with ${code}:\n${output.join("\n")}`)));
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

/** A port nothing listens on right now (for programs that need a fixed port). */
export function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
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
