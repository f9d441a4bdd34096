/** Smoke test: the functions under `wrangler dev` (offline), against a real control plane. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  type ControlPlaneProcess,
  startControlPlaneProcess,
} from "../../testkit/control-plane-process";
import { ROOT } from "../../testkit/paths";
import { freePort } from "../../testkit/ports";
import { removeDir } from "../../testkit/temp";

let cp: ControlPlaneProcess;
let url: string;
let stopWrangler: () => void;

beforeAll(async () => {
  cp = await startControlPlaneProcess();
  const port = await freePort();
  const child = spawn(
    resolve(ROOT, "node_modules/.bin/wrangler"),
    ["dev", "--port", String(port), "--var", `CONTROL_PLANE_URL:${cp.url}`],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        CI: "1",
      },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  stopWrangler = () => {
    try {
      process.kill(-(child.pid ?? 0), "SIGTERM");
    } catch {
      // already gone
    }
  };
  let output = "";
  url = await new Promise<string>((ready, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Ready on (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) ready(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => fail(new Error(`wrangler dev exited with ${code}:\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  stopWrangler?.();
  await cp?.stop();
  if (cp) removeDir(cp.dataDir);
});

test("wrangler dev serves the API: health, create, query, libSQL proxy, errors", async () => {
  const auth = { Authorization: `Bearer ${cp.adminToken}`, "Content-Type": "application/json" };
  expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
  const consolePage = await fetch(`${url}/`);
  expect(consolePage.status).toBe(200);
  expect(await consolePage.text()).toContain("<title>DB-Forge console</title>");
  const created = await fetch(`${url}/admin/databases`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "wrangler-smoke" }),
  });
  expect(created.status).toBe(201);
  const query = await fetch(`${url}/api/db/wrangler-smoke/query`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ sql: "SELECT ? + 1 AS answer", params: [41] }),
  });
  expect(((await query.json()) as { rows: unknown[] }).rows).toEqual([{ answer: 42 }]);
  const client = createClient({ url: `${url}/db/wrangler-smoke/`, authToken: cp.adminToken });
  expect((await client.execute("SELECT 'via wrangler' AS v")).rows[0]?.v).toBe("via wrangler");
  client.close();
  const missing = await fetch(`${url}/api/db/nope/query`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ sql: "SELECT 1" }),
  });
  expect(missing.status).toBe(404);
  expect(missing.headers.get("content-type")).toBe("application/problem+json");
  expect(
    (await fetch(`${url}/admin/databases/wrangler-smoke`, { method: "DELETE", headers: auth }))
      .status,
  ).toBe(204);
}, 60_000);
