/**
 * API keys, roles and the audit log, end to end (functions -> control plane -> worker): a route
 * matrix of every role allowed and refused, scopes, revocation, keys as libSQL auth tokens, and
 * an audit entry with the right actor for every admin action.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

type Role = "owner" | "admin" | "developer" | "viewer";
const ROLES: Role[] = ["owner", "admin", "developer", "viewer"];

interface Created {
  id: string;
  key: string;
  role: Role;
  databases: unknown;
  createdBy: string;
}

async function createKey(
  rt: Stack["runtimes"]["node"],
  role: Role,
  databases: unknown = "*",
  token?: string,
): Promise<Created> {
  const res = await rt.call("POST", "/admin/keys", {
    body: { name: `${role} key`, role, databases },
    ...(token === undefined ? {} : { token }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Created;
}

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];

  test("every role on every route: allowed, or 403 naming the missing permission", async () => {
    const db = uniqueName("matrix");
    expect((await rt().call("POST", "/admin/databases", { body: { name: db } })).status).toBe(201);
    const keys = Object.fromEntries(
      await Promise.all(ROLES.map(async (role) => [role, await createKey(rt(), role)] as const)),
    ) as Record<Role, Created>;
    expect(keys.owner.key).toMatch(/^dbfk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(keys.owner.createdBy).toBe("admin");

    // [method, path, body, permission, roles allowed]
    const matrix: Array<[string, string, unknown, string, Role[]]> = [
      ["GET", "/admin/databases", undefined, "databases:read", ROLES],
      ["GET", `/admin/databases/${db}`, undefined, "databases:read", ROLES],
      ["GET", `/admin/databases/${db}/usage`, undefined, "usage:read", ROLES],
      ["GET", "/admin/usage", undefined, "usage:read", ROLES],
      [
        "PATCH",
        `/admin/databases/${db}`,
        { quotaBytes: 8 * 1024 * 1024 },
        "databases:update",
        ["owner", "admin"],
      ],
      ["POST", `/admin/databases/${db}/tokens`, {}, "tokens:manage", ["owner", "admin"]],
      ["GET", `/admin/databases/${db}/backups`, undefined, "backups:read", ROLES],
      ["POST", `/admin/databases/${db}/backups`, undefined, "backups:manage", ["owner", "admin"]],
      [
        "POST",
        `/admin/databases/${db}/restore`,
        { timestamp: new Date().toISOString() },
        "backups:manage",
        ["owner", "admin"],
      ],
      ["GET", "/admin/audit", undefined, "audit:read", ["owner", "admin"]],
      ["GET", "/admin/keys", undefined, "keys:manage", ["owner"]],
      ["POST", "/admin/keys", { name: "k", role: "viewer" }, "keys:manage", ["owner"]],
      ["POST", `/api/db/${db}/query`, { sql: "SELECT 1" }, "data:read", ROLES],
    ];
    for (const [method, path, body, permission, allowed] of matrix) {
      for (const role of ROLES) {
        const res = await rt().call(method, path, {
          token: keys[role].key,
          ...(body === undefined ? {} : { body }),
        });
        const what = `${role} ${method} ${path}`;
        if (allowed.includes(role)) {
          expect(res.status, `${what}: ${await res.clone().text()}`).toBeLessThan(300);
        } else {
          expect(res.status, what).toBe(403);
          const problem = (await problemOf(res)) as unknown as { code: string; permission: string };
          expect(problem.code, what).toBe("FORBIDDEN");
          expect(problem.permission, what).toBe(permission);
        }
      }
    }

    // Writing data: developers and up; a viewer's access is read-only.
    await rt().call("POST", `/api/db/${db}/query`, { body: { sql: "CREATE TABLE t (x)" } });
    for (const role of ROLES) {
      const res = await rt().call("POST", `/api/db/${db}/query`, {
        token: keys[role].key,
        body: { sql: "INSERT INTO t VALUES (1)" },
      });
      if (role === "viewer") {
        expect(res.status).toBe(403);
        expect((await problemOf(res)).code).toBe("READ_ONLY");
      } else expect(res.status, role).toBe(200);
    }

    // Creating and deleting databases: owner and admin.
    for (const role of ROLES) {
      const name = uniqueName(`by-${role}`);
      const made = await rt().call("POST", "/admin/databases", {
        token: keys[role].key,
        body: { name },
      });
      if (role === "owner" || role === "admin") {
        expect(made.status).toBe(201);
        const gone = await rt().call("DELETE", `/admin/databases/${name}`, {
          token: keys[role].key,
        });
        expect(gone.status).toBe(204);
      } else {
        expect(made.status).toBe(403);
        expect(((await made.json()) as { permission: string }).permission).toBe("databases:create");
        const del = await rt().call("DELETE", `/admin/databases/${db}`, { token: keys[role].key });
        expect(del.status).toBe(403);
        expect(((await del.json()) as { permission: string }).permission).toBe("databases:delete");
      }
    }
  });

  test("a scoped key sees and reaches only its databases; names outside are 403 whether they exist or not", async () => {
    const prefix = uniqueName("team");
    const inside = `${prefix}-a`;
    const outside = uniqueName("other");
    for (const name of [inside, outside]) {
      expect((await rt().call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
    }
    const dev = await createKey(rt(), "developer", [`${prefix}-*`]);
    const admin = await createKey(rt(), "admin", [`${prefix}-*`]);

    const list = (await (
      await rt().call("GET", "/admin/databases", { token: dev.key })
    ).json()) as {
      databases: Array<{ name: string }>;
    };
    expect(list.databases.map((d) => d.name)).toEqual([inside]);
    const q = await rt().call("POST", `/api/db/${inside}/query`, {
      token: dev.key,
      body: { sql: "SELECT 1 AS one" },
    });
    expect(q.status).toBe(200);
    for (const name of [outside, uniqueName("never-created")]) {
      const res = await rt().call("POST", `/api/db/${name}/query`, {
        token: dev.key,
        body: { sql: "SELECT 1" },
      });
      expect(res.status, name).toBe(403);
      expect(((await res.json()) as { permission: string }).permission).toBe("data:read");
      const shown = await rt().call("GET", `/admin/databases/${name}`, { token: dev.key });
      expect(shown.status).toBe(403);
    }
    // A scoped admin creates inside its scope only, and never sees the audit log or makes keys.
    expect(
      (
        await rt().call("POST", "/admin/databases", {
          token: admin.key,
          body: { name: `${prefix}-b` },
        })
      ).status,
    ).toBe(201);
    const wide = await rt().call("POST", "/admin/databases", {
      token: admin.key,
      body: { name: uniqueName("wide") },
    });
    expect(wide.status).toBe(403);
    expect((await rt().call("GET", "/admin/audit", { token: admin.key })).status).toBe(403);
  });

  test("a key works as the authToken of @libsql/client, within its role; a revoked key stops working", async () => {
    const db = uniqueName("libsql-key");
    expect((await rt().call("POST", "/admin/databases", { body: { name: db } })).status).toBe(201);
    const dev = await createKey(rt(), "developer", [db]);
    const viewer = await createKey(rt(), "viewer", [db]);
    const url = `${rt().url}/db/${db}/`;
    const devClient = createClient({ url, authToken: dev.key });
    await devClient.execute("CREATE TABLE t (x)");
    await devClient.execute({ sql: "INSERT INTO t VALUES (?)", args: [1] });
    const viewerClient = createClient({ url, authToken: viewer.key });
    expect((await viewerClient.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(1);
    await expect(viewerClient.execute("INSERT INTO t VALUES (2)")).rejects.toThrow(/read/i);
    devClient.close();
    viewerClient.close();

    const revoked = await rt().call("DELETE", `/admin/keys/${dev.id}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    const after = await rt().call("GET", `/admin/databases/${db}`, { token: dev.key });
    expect(after.status).toBe(401);
    const listed = (await (await rt().call("GET", "/admin/keys")).json()) as {
      keys: Array<{ id: string; revokedAt: string | null; key?: string }>;
    };
    const entry = listed.keys.find((k) => k.id === dev.id);
    expect(entry?.revokedAt).not.toBeNull();
    expect(listed.keys.every((k) => k.key === undefined)).toBe(true);
    // Bad ids are clear problems.
    expect((await rt().call("DELETE", "/admin/keys/nope")).status).toBe(400);
    expect((await rt().call("DELETE", "/admin/keys/000000000000")).status).toBe(404);
  });

  test("every admin action is in the audit log with its actor, client and outcome", async () => {
    const owner = await createKey(rt(), "owner");
    const viewer = await createKey(rt(), "viewer", "*", owner.key);
    const db = uniqueName("audited");
    const as = (token: string) => ({ token });
    expect(
      (await rt().call("POST", "/admin/databases", { ...as(owner.key), body: { name: db } }))
        .status,
    ).toBe(201);
    expect(
      (
        await rt().call("PATCH", `/admin/databases/${db}`, {
          ...as(owner.key),
          body: { quotaBytes: 1048576 },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await rt().call("POST", `/admin/databases/${db}/tokens`, {
          ...as(owner.key),
          body: { access: "read-only" },
        })
      ).status,
    ).toBe(201);
    expect(
      (await rt().call("POST", `/admin/databases/${db}/tokens/revoke`, as(owner.key))).status,
    ).toBe(204);
    expect((await rt().call("DELETE", `/admin/databases/${db}`, as(viewer.key))).status).toBe(403);
    expect(
      (await rt().call("POST", "/admin/databases", { ...as(owner.key), body: { name: db } }))
        .status,
    ).toBe(409);
    expect((await rt().call("DELETE", `/admin/databases/${db}`, as(owner.key))).status).toBe(204);
    expect((await rt().call("DELETE", `/admin/keys/${viewer.id}`, as(owner.key))).status).toBe(200);

    const res = await rt().call("GET", `/admin/audit?database=${db}&limit=50`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as {
      entries: Array<{
        actor: string;
        action: string;
        outcome: string;
        client: string;
        at: string;
        detail: unknown;
      }>;
    };
    const seen = page.entries.map((e) => `${e.action} ${e.actor} ${e.outcome}`).reverse();
    expect(seen).toEqual([
      `database.create ${owner.id} ok`,
      `database.update ${owner.id} ok`,
      `token.mint ${owner.id} ok`,
      `tokens.revoke ${owner.id} ok`,
      `database.delete ${viewer.id} FORBIDDEN`,
      `database.create ${owner.id} DATABASE_EXISTS`,
      `database.delete ${owner.id} ok`,
    ]);
    for (const e of page.entries) {
      expect(e.client).toMatch(/127\.0\.0\.1|::1|unknown/);
      expect(Date.now() - Date.parse(e.at)).toBeLessThan(60_000);
    }
    // Key actions, by actor; paging with a cursor returns older entries without repeats.
    const byOwner = (await (
      await rt().call("GET", `/admin/audit?actor=${owner.id}&limit=2`)
    ).json()) as {
      entries: Array<{ id: number; action: string }>;
      nextCursor: string | null;
    };
    expect(byOwner.entries).toHaveLength(2);
    expect(byOwner.entries[0]?.action).toBe("key.revoke");
    expect(byOwner.nextCursor).not.toBeNull();
    const older = (await (
      await rt().call(
        "GET",
        `/admin/audit?actor=${owner.id}&limit=100&cursor=${byOwner.nextCursor}`,
      )
    ).json()) as { entries: Array<{ id: number; action: string }> };
    expect(older.entries.every((e) => e.id < (byOwner.entries[1]?.id ?? 0))).toBe(true);
    const keyCreate = (await (
      await rt().call("GET", "/admin/audit?actor=admin&limit=1000")
    ).json()) as {
      entries: Array<{ action: string; detail: { role?: string } | null }>;
    };
    expect(
      keyCreate.entries.some((e) => e.action === "key.create" && e.detail?.role === "owner"),
    ).toBe(true);
    expect((await rt().call("GET", "/admin/audit?from=yesterday")).status).toBe(400);
  });

  test("whoami tells a key what it may do", async () => {
    const viewer = await createKey(rt(), "viewer", ["a-*"]);
    const res = await rt().call("GET", "/admin/whoami", { token: viewer.key });
    expect(await res.json()).toEqual({
      actor: viewer.id,
      name: "viewer key",
      role: "viewer",
      databases: ["a-*"],
      permissions: ["databases:read", "data:read", "usage:read", "backups:read"],
    });
    const admin = await rt().call("GET", "/admin/whoami");
    expect(((await admin.json()) as { role: string }).role).toBe("owner");
  });
});
