/**
 * A pooled worker's rehearsal while it waits for a database: it serves a throwaway database
 * once, end to end (HTTP, Hrana, engine, JSON), and shuts it down. Code that has run once is
 * compiled; a claimed worker's first real request then costs ~3 ms instead of ~15, which is
 * most of a cold start. Nothing of it remains: the directory is removed, the port closed. It
 * listens on loopback for a few milliseconds, behind a key of its own that no one else has.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { signJwt } from "../../core/jwt";
import { REHEARSAL_DIR_PREFIX } from "../../core/worker-pool";
import { parseEnv } from "./env";
import { startWorker } from "./server";

const PIPELINE = JSON.stringify({
  requests: [
    { type: "execute", stmt: { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" } },
    {
      type: "execute",
      stmt: { sql: "INSERT INTO t (v) VALUES (?)", args: [{ type: "text", value: "x" }] },
    },
    {
      type: "execute",
      stmt: { sql: "SELECT id, v FROM t WHERE id = ?", args: [{ type: "integer", value: "1" }] },
    },
    { type: "close" },
  ],
});

export async function rehearse(): Promise<void> {
  // node:os loaded here, not imported: a worker that is not pooled never rehearses.
  const dir = mkdtempSync(
    join(process.getBuiltinModule("node:os").tmpdir(), `${REHEARSAL_DIR_PREFIX}${process.pid}-`),
  );
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // A pooled worker can be ended mid-rehearsal (its control plane gone: process.exit); the
  // directory goes with it. Only a SIGKILL of the worker itself leaves one behind.
  process.once("exit", removeDir);
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  try {
    const config = parseEnv({
      SQLD_HTTP_LISTEN_ADDR: "127.0.0.1:0",
      SQLD_DB_PATH: dir,
      SQLD_AUTH_JWT_KEY: publicKey.export({ type: "spki", format: "pem" }).toString(),
      DBFORGE_DISK_RESERVE: "0",
    });
    const worker = await startWorker(config);
    const token = signJwt(privateKey, {});
    try {
      await postAll(worker.port, token, PIPELINE, 3);
    } finally {
      await worker.shutdown();
    }
  } finally {
    process.off("exit", removeDir);
    removeDir();
  }
}

/**
 * The pipelines, one after the other on one keep-alive connection (the hot path's), written on
 * a raw socket. Not node:http's client: the worker itself never uses it, and its modules, once
 * loaded and compiled here, stayed in a pooled worker's heap for life (~0.2 MiB of private
 * memory more than a fresh worker; control-plane/test/pooled-worker-memory.test.ts).
 */
function postAll(port: number, token: string, body: string, times: number): Promise<void> {
  const head =
    "POST /v2/pipeline HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
    `Authorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let answered = 0;
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => answered < times && fail(new Error("rehearsal: connection closed")));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        const headText = received.subarray(0, end).toString("latin1");
        if (!headText.startsWith("HTTP/1.1 200 ")) return fail(new Error(`rehearsal: ${headText}`));
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headText)?.[1]);
        if (!Number.isFinite(length)) return fail(new Error("rehearsal: no content-length"));
        if (received.length < end + 4 + length) return;
        received = received.subarray(end + 4 + length);
        if (++answered === times) {
          socket.end();
          return resolve();
        }
        socket.write(head + body);
      }
    });
    socket.write(head + body);
  });
}
