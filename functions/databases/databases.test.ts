/** Admin routes (databases and tokens) on the Node host and Miniflare. */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];

  test("create, show, list, delete", async () => {
    const name = uniqueName("db");
    const created = await rt().call("POST", "/admin/databases", { body: { name } });
    expect(created.status).toBe(201);
    const db = (await created.json()) as {
      name: string;
      status: string;
      url: string;
      sizeBytes: number;
    };
    expect(db).toMatchObject({ name, status: "running", url: `${rt().url}/db/${name}/` });

    const shown = (await (await rt().call("GET", `/admin/databases/${name}`)).json()) as {
      name: string;
      createdAt: string;
    };
    expect(shown.name).toBe(name);
    expect(Date.parse(shown.createdAt)).toBeGreaterThan(0);
    const list = (await (await rt().call("GET", "/admin/databases")).json()) as {
      databases: Array<{ name: string }>;
    };
    expect(list.databases.map((d) => d.name)).toContain(name);

    expect((await rt().call("DELETE", `/admin/databases/${name}`)).status).toBe(204);
    const gone = await rt().call("GET", `/admin/databases/${name}`);
    expect(gone.status).toBe(404);
    expect((await problemOf(gone)).code).toBe("DATABASE_NOT_FOUND");
  });

  test("seed-compatible aliases: spawn and prune", async () => {
    const name = uniqueName("alias");
    expect((await rt().call("POST", `/admin/databases/spawn/${name}`)).status).toBe(201);
    expect((await rt().call("GET", `/admin/databases/${name}`)).status).toBe(200);
    expect((await rt().call("DELETE", `/admin/databases/prune/${name}`)).status).toBe(204);
    expect((await rt().call("GET", `/admin/databases/${name}`)).status).toBe(404);
  });

  test("conflicts, bad names and bad bodies are problems with stable codes", async () => {
    const name = uniqueName("dup");
    expect((await rt().call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
    const dup = await rt().call("POST", "/admin/databases", { body: { name } });
    expect(dup.status).toBe(409);
    expect((await problemOf(dup)).code).toBe("DATABASE_EXISTS");

    for (const bad of ["../x", "Has Caps", "a b", "ümlaut"]) {
      const res = await rt().call("POST", "/admin/databases", { body: { name: bad } });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).code).toBe("INVALID_NAME");
    }
    const notJson = await rt().call("POST", "/admin/databases", { raw: "{nope" });
    expect(notJson.status).toBe(400);
    expect((await problemOf(notJson)).code).toBe("BAD_REQUEST");
    const noName = await rt().call("POST", "/admin/databases", { body: {} });
    expect((await problemOf(noName)).code).toBe("BAD_REQUEST");
    expect((await rt().call("DELETE", `/admin/databases/${name}`)).status).toBe(204);
  });

  test("admin routes need the admin token", async () => {
    for (const token of [null, "not-the-admin-token"]) {
      const res = await rt().call("GET", "/admin/databases", { token });
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("UNAUTHORIZED");
    }
  });

  test("tokens: read-only and full access, usable by @libsql/client at the returned URL", async () => {
    const name = uniqueName("tok");
    expect((await rt().call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
    const mint = async (access: string, expiresIn: unknown = "1h") => {
      const res = await rt().call("POST", `/admin/databases/${name}/tokens`, {
        body: { access, expiresIn },
      });
      expect(res.status).toBe(201);
      return (await res.json()) as {
        token: string;
        url: string;
        access: string;
        expiresAt: number | null;
      };
    };
    const full = await mint("full-access");
    expect(full.url).toBe(`${rt().url}/db/${name}/`);
    expect(full.expiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);
    const rw = createClient({ url: full.url, authToken: full.token });
    await rw.execute("CREATE TABLE t (v TEXT)");
    await rw.execute("INSERT INTO t VALUES ('x')");
    rw.close();

    const ro = await mint("read-only", null);
    expect(ro.expiresAt).toBeNull();
    const reader = createClient({ url: ro.url, authToken: ro.token });
    expect((await reader.execute("SELECT v FROM t")).rows[0]?.v).toBe("x");
    await expect(reader.execute("DELETE FROM t")).rejects.toMatchObject({
      code: "SQLITE_READONLY",
    });
    reader.close();

    // A database token is not an admin token.
    expect((await rt().call("GET", "/admin/databases", { token: full.token })).status).toBe(401);
    const bad = await rt().call("POST", `/admin/databases/${name}/tokens`, {
      body: { access: "root" },
    });
    expect((await problemOf(bad)).code).toBe("BAD_REQUEST");
    expect((await rt().call("POST", "/admin/databases/nope-404/tokens", { body: {} })).status).toBe(
      404,
    );
    expect((await rt().call("DELETE", `/admin/databases/${name}`)).status).toBe(204);
  });
});
