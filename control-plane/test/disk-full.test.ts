/**
 * A full disk is survivable: the database that filled it gets 507 DISK_FULL, and still the
 * admin can delete databases and a tenant can delete rows (each keeps a reserve for that),
 * other databases keep serving reads, and once there is room again everything works with
 * nothing lost. A small tmpfs is the disk (CI runs as root).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statfsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Stack, startStack } from "../../testkit/stack";
import { removeDir } from "../../testkit/temp";

const isRoot = process.getuid?.() === 0;
let mount = "";
let stack: Stack;

beforeAll(async () => {
  if (!isRoot) return;
  mount = execFileSync("mktemp", ["-d", "/tmp/dbforge-diskfull-XXXXXX"], {
    encoding: "utf8",
  }).trim();
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=40m", "tmpfs", mount]);
  stack = await startStack({
    DBFORGE_DATA_DIR: mount,
    DBFORGE_ADMIN_TOKEN: `dbf_admin_${randomBytes(24).toString("base64url")}`,
  });
});
afterAll(async () => {
  if (!isRoot) return;
  await stack?.close().catch(() => {});
  execFileSync("umount", ["-l", mount]);
  removeDir(mount);
});

test.skipIf(!isRoot)(
  "507 for the filling database; deletes, drops and reads still work; all is well after",
  async () => {
    const rt = stack.runtimes.node;
    const query = async (db: string, sql: string) => {
      const res = await rt.call("POST", `/api/db/${db}/query`, { body: { sql } });
      return {
        status: res.status,
        body: (await res.json()) as { code?: string; rows?: unknown[] },
      };
    };
    for (const name of ["filling", "other", "spare"]) {
      expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
    }
    expect((await query("other", "CREATE TABLE kept (v TEXT)")).status).toBe(200);
    expect((await query("other", "INSERT INTO kept VALUES ('safe')")).status).toBe(200);
    expect((await query("filling", "CREATE TABLE big (b BLOB)")).status).toBe(200);

    // Fill the disk through the API until the database gets DISK_FULL.
    let full: { status: number; body: { code?: string } } | undefined;
    for (let i = 0; i < 400 && !full; i++) {
      const res = await query("filling", "INSERT INTO big VALUES (randomblob(500000))");
      if (res.status !== 200) full = res;
    }
    expect(full).toMatchObject({ status: 507, body: { code: "DISK_FULL" } });
    // Whatever is left goes too.
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${join(mount, "filler")}`, "bs=4k"], {
        stdio: "ignore",
      });
    } catch {
      // dd stops with "No space left on device"
    }
    const { bavail, bsize } = statfsSync(mount);
    expect(bavail * bsize).toBeLessThan(64 * 1024);

    // Reads elsewhere keep working; the tenant can delete rows; the admin can delete databases.
    expect((await query("other", "SELECT v FROM kept")).body.rows).toEqual([{ v: "safe" }]);
    const deleted = await query("filling", "DELETE FROM big WHERE rowid % 2 = 0");
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect((await rt.call("DELETE", "/admin/databases/spare")).status).toBe(204);
    expect((await rt.call("DELETE", "/admin/databases/filling")).status).toBe(204);
    const names = async () =>
      (
        (await (await rt.call("GET", "/admin/databases")).json()) as {
          databases: { name: string }[];
        }
      ).databases.map((d) => d.name);
    expect(await names()).toEqual(["other"]);

    // Room again: everything works, nothing is lost.
    execFileSync("rm", ["-f", join(mount, "filler")]);
    expect((await rt.call("POST", "/admin/databases", { body: { name: "after" } })).status).toBe(
      201,
    );
    expect((await query("other", "INSERT INTO kept VALUES ('more')")).status).toBe(200);
    expect((await query("other", "SELECT v FROM kept ORDER BY rowid")).body.rows).toEqual([
      { v: "safe" },
      { v: "more" },
    ]);
    expect(await names()).toEqual(["after", "other"]);
  },
);
