/** GET /admin/events: server-sent snapshots for the key's databases, bounded in number. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { problemOf } from "../../testkit/problem";
import { type Stack, startStack, uniqueName } from "../../testkit/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test("events: snapshots of the databases in scope, refused without a key, at most 4 streams per credential", async () => {
  const rt = stack.runtimes.node;
  const name = uniqueName("evt");
  expect((await rt.call("POST", "/admin/databases", { body: { name } })).status).toBe(201);
  expect((await fetch(`${rt.url}/admin/events`)).status).toBe(401);

  const controllers: AbortController[] = [];
  const openStream = async () => {
    const controller = new AbortController();
    controllers.push(controller);
    return fetch(`${rt.url}/admin/events`, {
      headers: { Authorization: `Bearer ${stack.adminToken}` },
      signal: controller.signal,
    });
  };
  try {
    const first = await openStream();
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/event-stream");
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    const event = new TextDecoder().decode(value);
    expect(event).toMatch(/^event: databases\ndata: /);
    const data = JSON.parse(event.split("\n")[1]?.slice(6) ?? "{}") as {
      databases: Array<{ name: string; status: string; quotaBytes: number }>;
    };
    expect(data.databases.find((d) => d.name === name)).toMatchObject({ status: "running" });
    for (let i = 0; i < 3; i++) expect((await openStream()).status).toBe(200);
    const fifth = await openStream();
    expect(fifth.status).toBe(429);
    expect((await problemOf(fifth)).code).toBe("RATE_LIMITED");
  } finally {
    for (const c of controllers) c.abort();
  }
  // Closed streams free their places.
  await expect
    .poll(
      async () => {
        const res = await fetch(`${rt.url}/admin/events`, {
          headers: { Authorization: `Bearer ${stack.adminToken}` },
        });
        await res.body?.cancel();
        return res.status;
      },
      { timeout: 10_000, interval: 500 },
    )
    .toBe(200);
});
