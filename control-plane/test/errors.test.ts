/**
 * Every failure of the control plane API is a clear problem+json error with a stable code, and
 * a failed create leaves nothing behind.
 */

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CONTROL_PLANE_API } from "../../core/control-plane-api";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { problemOf } from "../../testkit/problem";
import { removeDir } from "../../testkit/temp";

/** A failed create must leave no registry entry and no database directory. */
async function expectNothingLeft(cp: ControlPlaneProcess, name: string): Promise<void> {
  const list = (await (await cp.api("GET", "/v1/databases")).json()) as {
    databases: Array<{ name: string }>;
  };
  expect(list.databases.map((d) => d.name)).not.toContain(name);
  expect(existsSync(join(cp.dataDir, name))).toBe(false);
}

describe("names and credentials", () => {
  let cp: ControlPlaneProcess;
  beforeAll(async () => {
    cp = await startControlPlaneProcess();
  });
  afterAll(async () => {
    await cp.stop();
    removeDir(cp.dataDir);
  });

  test.each([
    "../etc",
    "has space",
    "UPPER",
    "żółw",
    "-leading",
    "trailing-",
    "a".repeat(64),
    "",
    "dots.not.allowed",
    "default",
    "admin",
  ])("the name %j is refused with INVALID_NAME or BAD_REQUEST", async (name) => {
    const res = await cp.api("POST", "/v1/databases", { name });
    expect(res.status).toBe(400);
    expect(["INVALID_NAME", "BAD_REQUEST"]).toContain((await problemOf(res)).code);
    expect(readdirSync(cp.dataDir)).toEqual([".control-plane"]);
  });

  test("a 63-character name is fine; a second create of the same name is a 409", async () => {
    const name = `a${"b".repeat(61)}c`;
    expect((await cp.api("POST", "/v1/databases", { name })).status).toBe(201);
    const again = await cp.api("POST", "/v1/databases", { name });
    expect(again.status).toBe(409);
    expect((await problemOf(again)).code).toBe("DATABASE_EXISTS");
    expect((await cp.api("DELETE", `/v1/databases/${name}`)).status).toBe(204);
  });

  test("malformed bodies are BAD_REQUEST", async () => {
    const res = await fetch(`${cp.url}/v1/databases`, {
      method: "POST",
      headers: { Authorization: `Bearer ${cp.adminToken}`, "Content-Type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("BAD_REQUEST");
    const wrongType = await cp.api("POST", "/v1/databases", { name: 42 });
    expect((await problemOf(wrongType)).code).toBe("BAD_REQUEST");
    const tokens = await cp.api("POST", "/v1/databases/nope/tokens", { access: "root" });
    expect((await problemOf(tokens)).code).toBe("BAD_REQUEST");
  });

  test("the admin token is required, generated with mode 0600", async () => {
    for (const token of [null, "wrong-token-wrong-token", `${cp.adminToken}x`]) {
      const res = await cp.api("GET", "/v1/databases", undefined, token);
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("UNAUTHORIZED");
    }
    expect(statSync(join(cp.dataDir, ".control-plane/admin-token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(cp.dataDir, ".control-plane/root-ed25519.pem")).mode & 0o777).toBe(0o600);
    expect((await cp.api("GET", "/health", undefined, null)).status).toBe(200);
  });

  test("unknown databases and routes are 404 problems", async () => {
    expect((await problemOf(await cp.api("GET", "/v1/databases/missing"))).code).toBe(
      "DATABASE_NOT_FOUND",
    );
    expect((await problemOf(await cp.api("POST", "/v1/databases/missing/resolve"))).code).toBe(
      "DATABASE_NOT_FOUND",
    );
    expect((await problemOf(await cp.api("GET", "/v1/nothing-here"))).code).toBe("NOT_FOUND");
  });

  test("the OpenAPI document lists every route", async () => {
    const doc = (await (await cp.api("GET", "/openapi.json")).json()) as {
      paths: Record<string, unknown>;
    };
    // Every route of the contract but the document itself.
    const expected = new Set(
      Object.values(CONTROL_PLANE_API)
        .map((r) => r.path)
        .filter((p) => p !== CONTROL_PLANE_API.openapi.path),
    );
    expect(Object.keys(doc.paths).sort()).toEqual([...expected].sort());
    expect(Object.keys(doc.paths)).toContain("/v1/keys/{id}");
  });
});

describe("start-up failures leave nothing half-created", () => {
  test("Docker engine unreachable: DOCKER_UNAVAILABLE", async () => {
    const cp = await startControlPlaneProcess({
      env: { DBFORGE_DRIVER: "docker", DBFORGE_DOCKER_SOCKET: "/nonexistent/docker.sock" },
    });
    try {
      const res = await cp.api("POST", "/v1/databases", { name: "nodocker" });
      expect(res.status).toBe(503);
      expect((await problemOf(res)).code).toBe("DOCKER_UNAVAILABLE");
      await expectNothingLeft(cp, "nodocker");
    } finally {
      await cp.stop();
      removeDir(cp.dataDir);
    }
  });

  test("worker image missing: WORKER_IMAGE_MISSING", async () => {
    const cp = await startControlPlaneProcess({
      env: { DBFORGE_DRIVER: "docker", DBFORGE_WORKER_IMAGE: "dbforge-worker:does-not-exist" },
    });
    try {
      const res = await cp.api("POST", "/v1/databases", { name: "noimage" });
      expect(res.status).toBe(503);
      const body = await problemOf(res);
      expect(body.code).toBe("WORKER_IMAGE_MISSING");
      expect(body.detail).toMatch(/npm run image/);
      await expectNothingLeft(cp, "noimage");
    } finally {
      await cp.stop();
      removeDir(cp.dataDir);
    }
  });

  test("a worker that fails to start: WORKER_START_FAILED with its output", async () => {
    const cp = await startControlPlaneProcess({ env: { DBFORGE_QUERY_TIMEOUT_MS: "1" } });
    const broken = join(cp.dataDir, "broken-worker.mjs");
    writeFileSync(broken, "console.error('boom: cannot open the database'); process.exit(3);\n");
    await cp.stop();
    const cp2 = await startControlPlaneProcess({
      dataDir: cp.dataDir,
      env: { DBFORGE_WORKER_BUNDLE: broken },
    });
    try {
      const res = await cp2.api("POST", "/v1/databases", { name: "broken" });
      expect(res.status).toBe(503);
      const body = await problemOf(res);
      expect(body.code).toBe("WORKER_START_FAILED");
      expect(body.detail).toMatch(/boom: cannot open the database/);
      await expectNothingLeft(cp2, "broken");
    } finally {
      await cp2.stop();
      removeDir(cp.dataDir);
    }
  });

  test("no free port: PORT_EXHAUSTED", async () => {
    const servers: Server[] = [];
    const occupy = (port: number) =>
      new Promise<void>((ok, fail) => {
        const s = createServer();
        s.once("error", fail);
        s.listen(port, "127.0.0.1", () => ok());
        servers.push(s);
      });
    await occupy(0);
    const address = servers[0]!.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const cp = await startControlPlaneProcess({ env: { DBFORGE_WORKER_PORTS: `${port}-${port}` } });
    try {
      const res = await cp.api("POST", "/v1/databases", { name: "noport" });
      expect(res.status).toBe(503);
      const body = await problemOf(res);
      expect(body.code).toBe("PORT_EXHAUSTED");
      expect(body.detail).toContain(String(port));
      await expectNothingLeft(cp, "noport");
    } finally {
      await cp.stop();
      for (const s of servers) s.close();
      removeDir(cp.dataDir);
    }
  });

  test("disk full: DISK_FULL, and existing databases keep their data", async () => {
    // A 4 MiB tmpfs as the data directory (CI runs as root).
    const mount = execFileSync("mktemp", ["-d", "/tmp/dbforge-full-XXXXXX"], {
      encoding: "utf8",
    }).trim();
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount]);
    try {
      const cp = await startControlPlaneProcess({ dataDir: mount });
      try {
        expect((await cp.api("POST", "/v1/databases", { name: "before" })).status).toBe(201);
        const connect = async () => {
          const { url, token } = (await (
            await cp.api("POST", "/v1/databases/before/resolve")
          ).json()) as {
            url: string;
            token: string;
          };
          return createClient({ url, authToken: token });
        };
        const db = await connect();
        await db.execute("CREATE TABLE kept (v TEXT)");
        await db.execute("INSERT INTO kept VALUES ('safe')");
        // Fill the file system.
        try {
          execFileSync("dd", ["if=/dev/zero", `of=${join(mount, "filler")}`, "bs=64k"], {
            stdio: "ignore",
          });
        } catch {
          // dd stops with "No space left on device"
        }
        const res = await cp.api("POST", "/v1/databases", { name: "after" });
        expect(res.status).toBe(507);
        expect((await problemOf(res)).code).toBe("DISK_FULL");
        await expectNothingLeft(cp, "after");
        const list = (await (await cp.api("GET", "/v1/databases")).json()) as {
          databases: Array<{ name: string }>;
        };
        expect(list.databases.map((d) => d.name)).toEqual(["before"]);
        // Writes fail cleanly; what was committed is still there.
        await expect(
          db.execute("INSERT INTO kept SELECT hex(randomblob(8192)) FROM kept, kept, kept"),
        ).rejects.toMatchObject({
          code: "SQLITE_FULL",
        });
        expect((await db.execute("SELECT v FROM kept")).rows.map((r) => r.v)).toEqual(["safe"]);
        db.close();
      } finally {
        await cp.stop();
      }
    } finally {
      execFileSync("umount", ["-l", mount]);
      removeDir(mount);
    }
  });
});
