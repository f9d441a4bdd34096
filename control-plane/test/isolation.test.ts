/**
 * Tenant isolation below SQL, process driver: assume a worker's SQL sandbox has a hole and check
 * what the worker's process could then reach. As root, every database's worker runs as its own
 * uid, owns only its own directory (0700), and can read neither the control plane's secrets nor
 * another database's files, nor change the code workers run. Memory is capped per database.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { libsqlErrorOf } from "../../testkit/libsql";
import { WORKER_BUNDLE } from "../../testkit/paths";
import { removeDir } from "../../testkit/temp";

const isRoot = process.getuid?.() === 0;

interface Info {
  workerId: string;
  memoryMb: number;
}

/** A field of /proc/<pid>/status, e.g. "Uid". */
function procStatus(pid: string, field: string): string {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return new RegExp(`^${field}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "";
}

describe.skipIf(!isRoot)("process driver as root", () => {
  let cp: ControlPlaneProcess;
  const workers: Record<string, Info> = {};
  const uid = (name: string) => Number(procStatus(workers[name]!.workerId, "Uid").split(/\s+/)[0]);
  const dir = (name: string) => join(cp.dataDir, name);
  const dataFile = (name: string) => join(dir(name), "iku.db/dbs/default/data");

  beforeAll(async () => {
    cp = await startControlPlaneProcess();
    for (const [name, memoryMb] of [
      ["alpha", 256],
      ["beta", undefined],
    ] as const) {
      const res = await cp.api("POST", "/v1/databases", { name, memoryMb });
      expect(res.status, await res.clone().text()).toBe(201);
      const { url, token } = (await (
        await cp.api("POST", `/v1/databases/${name}/resolve`)
      ).json()) as { url: string; token: string };
      const db = createClient({ url, authToken: token });
      await db.execute("CREATE TABLE secrets (v TEXT)");
      await db.execute(`INSERT INTO secrets VALUES ('${name}-secret')`);
      db.close();
      workers[name] = (await (await cp.api("GET", `/v1/databases/${name}`)).json()) as Info;
    }
  });
  afterAll(async () => {
    await cp?.stop();
    if (cp) removeDir(cp.dataDir);
  });

  test("each database's worker runs as its own unprivileged uid, with every gid its own", () => {
    const [a, b] = [uid("alpha"), uid("beta")];
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a).not.toBe(b);
    for (const name of ["alpha", "beta"]) {
      const pid = workers[name]!.workerId;
      expect(procStatus(pid, "Uid").split(/\s+/)).toEqual(Array(4).fill(String(uid(name))));
      expect(procStatus(pid, "Gid").split(/\s+/)).toEqual(Array(4).fill(String(uid(name))));
      expect(procStatus(pid, "Groups").trim()).toBe(String(uid(name)));
      expect(procStatus(pid, "CapEff")).toBe("0000000000000000");
    }
  });

  test("directories and files have private modes and owners", () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(cp.dataDir)).toBe(0o711);
    const state = join(cp.dataDir, ".control-plane");
    expect(mode(state)).toBe(0o700);
    expect(statSync(state).uid).toBe(0);
    for (const file of ["admin-token", "root-ed25519.pem", "registry.db"]) {
      expect(mode(join(state, file)), file).toBe(0o600);
      expect(statSync(join(state, file)).uid).toBe(0);
    }
    for (const name of ["alpha", "beta"]) {
      expect(mode(dir(name))).toBe(0o700);
      expect(statSync(dir(name)).uid).toBe(uid(name));
      expect(mode(dataFile(name))).toBe(0o600);
      expect(statSync(dataFile(name)).uid).toBe(uid(name));
    }
    // Worker code and the node binary belong to root and are not writable by anyone else.
    for (const path of [WORKER_BUNDLE, process.execPath]) {
      expect(statSync(path).mode & 0o022, path).toBe(0);
    }
  });

  test("a process with a worker's uid reaches nothing but its own database", () => {
    const probe = (targets: Record<string, [string, string]>) => {
      const script = `
        const fs = require("node:fs");
        const out = {};
        for (const [key, [op, path]] of Object.entries(JSON.parse(process.argv[1]))) {
          try {
            if (op === "read") fs.readFileSync(path);
            else if (op === "list") fs.readdirSync(path);
            else fs.appendFileSync(path, "");
            out[key] = "ok";
          } catch (err) { out[key] = err.code; }
        }
        console.log(JSON.stringify(out));`;
      const result = spawnSync(process.execPath, ["-e", script, JSON.stringify(targets)], {
        uid: uid("alpha"),
        gid: uid("alpha"),
        encoding: "utf8",
      });
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Record<string, string>;
    };
    const state = join(cp.dataDir, ".control-plane");
    expect(
      probe({
        own: ["read", dataFile("alpha")],
        adminToken: ["read", join(state, "admin-token")],
        rootKey: ["read", join(state, "root-ed25519.pem")],
        registry: ["read", join(state, "registry.db")],
        stateDir: ["list", state],
        otherDir: ["list", dir("beta")],
        otherData: ["read", dataFile("beta")],
        dataRoot: ["list", cp.dataDir],
        bundle: ["write", WORKER_BUNDLE],
        node: ["write", process.execPath],
      }),
    ).toEqual({
      own: "ok",
      adminToken: "EACCES",
      rootKey: "EACCES",
      registry: "EACCES",
      stateDir: "EACCES",
      otherDir: "EACCES",
      otherData: "EACCES",
      dataRoot: "EACCES",
      bundle: "EACCES",
      node: "EACCES",
    });
  });

  test("memory is capped per database: a clean error, RSS under the cap, the next query works", async () => {
    expect(workers.alpha!.memoryMb).toBe(256);
    expect(workers.beta!.memoryMb).toBe(512);
    const pid = workers.alpha!.workerId;
    // The OS limit backs up SQLite's and V8's own.
    expect(readFileSync(`/proc/${pid}/limits`, "utf8")).toMatch(
      /Max address space\s+\d+\s+\d+\s+bytes/,
    );
    const { url, token } = (await (await cp.api("POST", "/v1/databases/alpha/resolve")).json()) as {
      url: string;
      token: string;
    };
    const db = createClient({ url, authToken: token });
    try {
      for (const sql of ["SELECT randomblob(1e9)", "SELECT zeroblob(2e9)"]) {
        const err = await libsqlErrorOf(db.execute(sql), sql);
        expect(err.code).toMatch(/SQLITE_NOMEM|SQLITE_TOOBIG/);
        const rssKb = Number(procStatus(pid, "VmRSS").replace(/\D/g, ""));
        expect(rssKb / 1024).toBeLessThan(256);
      }
      expect((await db.execute("SELECT v FROM secrets")).rows[0]?.v).toBe("alpha-secret");
    } finally {
      db.close();
    }
  });
});

describe.skipIf(!isRoot)("process driver as an ordinary user", () => {
  const nobody = { uid: 65534, gid: 65534 };
  let cp: ControlPlaneProcess;
  beforeAll(async () => {
    cp = await startControlPlaneProcess({ user: nobody });
  });
  afterAll(async () => {
    await cp?.stop();
    if (cp) removeDir(cp.dataDir);
  });

  test("workers run as the service user; every directory is 0700 and every file 0600", async () => {
    const res = await cp.api("POST", "/v1/databases", { name: "plain" });
    expect(res.status, await res.clone().text()).toBe(201);
    const { url, token } = (await (await cp.api("POST", "/v1/databases/plain/resolve")).json()) as {
      url: string;
      token: string;
    };
    const db = createClient({ url, authToken: token });
    await db.execute("CREATE TABLE t (v TEXT)");
    db.close();
    const info = (await (await cp.api("GET", "/v1/databases/plain")).json()) as Info;
    expect(procStatus(info.workerId, "Uid").split(/\s+/)[0]).toBe(String(nobody.uid));
    const walk = (path: string): Array<[string, number]> => {
      const stat = statSync(path);
      const entry: [string, number] = [path, stat.mode & 0o777];
      return stat.isDirectory()
        ? [entry, ...readdirSync(path).flatMap((child) => walk(join(path, child)))]
        : [entry];
    };
    const modes = walk(cp.dataDir);
    expect(modes.length).toBeGreaterThan(8);
    for (const [path, mode] of modes) {
      expect(mode, path).toBe(statSync(path).isDirectory() ? 0o700 : 0o600);
    }
  });
});
