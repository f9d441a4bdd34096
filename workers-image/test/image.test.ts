/**
 * Builds the worker image from local files and runs it under the real Docker engine, reached on
 * a port published on 127.0.0.1.
 */
import { execFileSync } from "node:child_process";
import { chownSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, test } from "vitest";
import { buildImage } from "../../testkit/image";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { eventually } from "../../testkit/wait";
import { testKeys } from "../../testkit/worker";

const TAG = "dbforge-worker:test";
const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim();

const keys = testKeys();
let dataDir: string;
const containers: string[] = [];

beforeAll(() => {
  buildImage(TAG);
  dataDir = makeTempDir("image-data");
  // The image runs as uid 666, like sqld's.
  chownSync(dataDir, 666, 666);
});
afterAll(() => {
  for (const id of containers) docker("rm", "-f", id);
  removeDir(dataDir);
});

function run(env: Record<string, string> = {}): { id: string; url: string } {
  const id = docker(
    "run",
    "-d",
    ...Object.entries(env).flatMap(([key, value]) => ["-e", `${key}=${value}`]),
    "--label",
    "dev.dbforge.test=image",
    "-p",
    "127.0.0.1:0:8080",
    "-v",
    `${dataDir}:/var/lib/sqld`,
    "-e",
    `SQLD_AUTH_JWT_KEY=${keys.publicPem}`,
    TAG,
  );
  containers.push(id);
  const port = docker("port", id, "8080/tcp").split("\n")[0]!.split(":").at(-1);
  return { id, url: `http://127.0.0.1:${port}` };
}

async function waitHealthy(url: string): Promise<void> {
  await eventually(
    // docker-proxy accepts connections before the worker listens; do not wait on those.
    async () =>
      (await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) })).ok ? true : undefined,
    15_000,
    `worker at ${url} to become healthy`,
  );
}

test("the image serves @libsql/client on a published loopback port and keeps data in the volume", async () => {
  const first = run();
  await waitHealthy(first.url);
  // Linux x64: the pre-release engine (auto); the image carries the stable one too.
  const engine = process.arch === "x64" ? "pre" : "stable";
  expect(await (await fetch(`${first.url}/version`)).text()).toMatch(
    new RegExp(`^dbforge-worker .*, ${engine} engine\\)$`),
  );

  const anonymous = createClient({ url: first.url });
  await expect(anonymous.execute("SELECT 1")).rejects.toThrow(/authorization/i);
  anonymous.close();

  const client = createClient({ url: first.url, authToken: keys.token() });
  await client.batch(
    ["CREATE TABLE t (v TEXT)", "INSERT INTO t VALUES ('in a container')"],
    "write",
  );
  client.close();

  // docker stop sends SIGTERM: a graceful exit, status 0.
  docker("stop", "-t", "10", first.id);
  expect(docker("inspect", "-f", "{{.State.ExitCode}}", first.id)).toBe("0");

  // The second container on the stable engine, forced: the same file, the same answers.
  const second = run({ DBFORGE_ENGINE: "stable" });
  await waitHealthy(second.url);
  expect(await (await fetch(`${second.url}/version`)).text()).toMatch(/, stable engine\)$/);
  const again = createClient({ url: second.url.replace("http", "ws"), authToken: keys.token() });
  const rs = await again.execute("SELECT v FROM t");
  expect(rs.rows[0]?.v).toBe("in a container");
  again.close();

  // The same layout as sqld's: <SQLD_DB_PATH>/dbs/default/data inside /var/lib/sqld.
  const files = execFileSync("ls", [join(dataDir, "iku.db/dbs/default")], { encoding: "utf8" });
  expect(files.split("\n")).toContain("data");
});
