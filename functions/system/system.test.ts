/** /health, /openapi.json and /docs on the Node host and Miniflare. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { RUNTIMES, type Stack, startStack } from "../../testkit/stack";
import { startFunctionsHost } from "../host/node";
import { ROUTE_TABLE } from "../route-table";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

type OpenApi = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
  >;
  components: { securitySchemes: Record<string, unknown> };
};

describe.each(RUNTIMES)("%s", (runtimeName) => {
  const rt = () => stack.runtimes[runtimeName];

  test("health", async () => {
    const res = await rt().call("GET", "/health", { token: null });
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("openapi.json: OpenAPI 3.1 with every route and its error responses", async () => {
    const doc = (await (
      await rt().call("GET", "/openapi.json", { token: null })
    ).json()) as OpenApi;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toBeDefined();
    // Static console files are not API operations.
    for (const route of ROUTE_TABLE.filter(
      (r) => !["/assets/*", "/favicon.svg"].includes(r.path),
    )) {
      const path = route.path === "/db/{name}/*" ? "/db/{name}/v2/pipeline" : route.path;
      const method = route.method === "ALL" ? "post" : route.method.toLowerCase();
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      const statuses = Object.keys(operation?.responses ?? {}).map(Number);
      expect(
        statuses.some((s) => s < 300),
        `${method} ${path} success`,
      ).toBe(true);
      if (!["/", "/health", "/docs", "/openapi.json"].includes(path)) {
        const errors = statuses.filter((s) => s >= 400);
        expect(errors.length, `${method} ${path} errors`).toBeGreaterThan(0);
        for (const status of errors) {
          expect(
            operation?.responses[status]?.content?.["application/problem+json"],
            `${method} ${path} ${status}`,
          ).toBeDefined();
        }
      }
    }
  });

  test("docs: a self-contained reference page reading /openapi.json", async () => {
    const res = await rt().call("GET", "/docs", { token: null });
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('fetch("/openapi.json")');
    expect(html).not.toMatch(/<script[^>]+src=/);
  });

  test("console assets with undecodable paths are 404, not 500 (/assets/%E0%A4%A.js was)", async () => {
    for (const path of [
      "/assets/%E0%A4%A.js",
      "/assets/%",
      "/assets/%00.js",
      "/assets/%c3%28.css",
    ]) {
      const res = await rt().call("GET", path, { token: null });
      expect(res.status, path).toBe(404);
    }
    expect((await rt().call("GET", "/health", { token: null })).status).toBe(200);
  });

  test("unknown routes and methods are problems", async () => {
    const missing = await rt().call("GET", "/nowhere", { token: null });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("NOT_FOUND");
    const method = await rt().call("PUT", "/admin/databases", { token: null });
    expect(method.status).toBe(405);
    expect((await problemOf(method)).code).toBe("METHOD_NOT_ALLOWED");
  });
});

test("a control plane that cannot be reached is WORKER_UNAVAILABLE (503)", async () => {
  const host = await startFunctionsHost({
    env: { CONTROL_PLANE_URL: "http://127.0.0.1:9" },
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    const res = await fetch(`${host.url}/api/db/anything/query`, {
      method: "POST",
      headers: { Authorization: "Bearer x", "Content-Type": "application/json" },
      body: JSON.stringify({ sql: "SELECT 1" }),
    });
    expect(res.status).toBe(503);
    expect((await problemOf(res)).code).toBe("WORKER_UNAVAILABLE");
  } finally {
    await host.close();
  }
});
