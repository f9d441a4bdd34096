/**
 * The control plane's questions to a running worker, asked of a real worker process: a live
 * one serves, a closed port is stopping, and one that takes the connection but does not answer
 * (busy) is unknown within the keep-awake bound, never a wait of seconds.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { freePort } from "../../testkit/ports";
import { removeDir } from "../../testkit/temp";
import { startWorkerProcess, testKeys, type WorkerProcess } from "../../testkit/worker";
import { isHealthy, keepAwake } from "./worker-liveness";

const keys = testKeys();
let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorkerProcess({ env: { SQLD_AUTH_JWT_KEY: keys.publicPem } });
});
afterAll(async () => {
  await worker.stop();
  removeDir(worker.dataDir);
});

test("a live worker serves, and is healthy", async () => {
  expect(await keepAwake(worker.url, keys.token())).toBe("serving");
  expect(await isHealthy(worker.url)).toBe(true);
});

test("a port nobody listens on is a worker stopping", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  expect(await keepAwake(url, keys.token())).toBe("stopping");
  expect(await isHealthy(url)).toBe(false);
});

test("a worker that takes the connection and does not answer is unknown, soon", async () => {
  const sockets: Socket[] = [];
  const silent: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((listening) => silent.listen(0, "127.0.0.1", listening));
  const address = silent.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  try {
    const started = Date.now();
    expect(await keepAwake(url, keys.token())).toBe("unknown");
    expect(Date.now() - started).toBeLessThan(1500);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((closed) => silent.close(closed));
  }
});
