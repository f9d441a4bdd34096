/** The generated client: in sync with the routes, and working against a real stack. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Stack, startStack } from "../../testkit/stack";
import { generateSchema, SCHEMA_FILE } from "./generate";
import { createDbForgeClient } from "./index";

test("the checked-in client matches /openapi.json (run `npm run gen:client` after changing routes)", async () => {
  expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(await generateSchema());
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test("create, query and delete with the typed client", async () => {
  const api = createDbForgeClient({ baseUrl: stack.runtimes.node.url, token: stack.adminToken });
  const created = await api.POST("/admin/databases", { body: { name: "typed-client" } });
  expect(created.response.status).toBe(201);
  expect(created.data?.url).toMatch(/\/db\/typed-client\/$/);

  const query = await api.POST("/api/db/{name}/query", {
    params: { path: { name: "typed-client" } },
    body: { sql: "SELECT ? AS greeting", params: ["hello"] },
  });
  expect(query.data?.rows).toEqual([{ greeting: "hello" }]);

  const failed = await api.POST("/api/db/{name}/query", {
    params: { path: { name: "typed-client" } },
    body: { sql: "SELEC" },
  });
  expect(failed.error?.code).toBe("SQL_SYNTAX_ERROR");

  const deleted = await api.DELETE("/admin/databases/{name}", {
    params: { path: { name: "typed-client" } },
  });
  expect(deleted.response.status).toBe(204);
  const gone = await api.GET("/admin/databases/{name}", {
    params: { path: { name: "typed-client" } },
  });
  expect(gone.error?.code).toBe("DATABASE_NOT_FOUND");
});
