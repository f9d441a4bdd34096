/**
 * A pooled worker's rehearsal while it waits for a database: it serves a throwaway database
 * once, end to end (HTTP, Hrana, engine, JSON), and shuts it down. Code that has run once is
 * compiled; a claimed worker's first real request then costs ~3 ms instead of ~15, which is
 * most of a cold start. Nothing of it remains: the directory is removed, the port closed. It
 * listens on loopback for a few milliseconds, behind a key of its own that no one else has.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { signJwt } from "../../core/jwt";
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
  const dir = mkdtempSync(join(process.getBuiltinModule("node:os").tmpdir(), "dbforge-rehearsal-"));
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
      for (let i = 0; i < 3; i++) await post(worker.port, token, PIPELINE);
    } finally {
      await worker.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function post(port: number, token: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v2/pipeline",
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on("end", resolve);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
