/**
 * What Node loads into a worker that serves and archives: every module a worker loads stays
 * in its memory for its life, and every database pays it (density, bench/density.ts). The
 * built-in modules a serving, archiving worker loaded, as Node lists them at exit, must not
 * include what only some workers need or none does:
 * - Node's ESM loader (the bundle is CommonJS: an ES module entry kept the loader, 0.3-0.5 MiB);
 * - node:fs/promises (the archiver copies its base through fs's callbacks: 0.2 MiB);
 * - zlib (only large answers are compressed), tls and https (only `ws` needs them, loaded on
 *   the first WebSocket).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { ACTIVE_DATABASE_PIPELINE } from "../../testkit/density";
import { ROOT } from "../../testkit/paths";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { eventually } from "../../testkit/wait";
import { startWorkerProcess, testKeys } from "../../testkit/worker";

const dir = makeTempDir("module-footprint");
afterAll(() => removeDir(dir));

const NOT_LOADED = [
  "internal/modules/esm/module_job",
  "internal/fs/promises",
  "zlib",
  "tls",
  "https",
];

test("a worker that has served and archived loaded none of the modules it does not need", async () => {
  const keys = testKeys();
  const listFile = join(dir, "modules.txt");
  const dataDir = join(dir, "data");
  const worker = await startWorkerProcess({
    dataDir,
    env: {
      SQLD_AUTH_JWT_KEY: keys.publicPem,
      DBFORGE_WAL_ARCHIVE: "on",
      NODE_OPTIONS: `--require ${join(ROOT, "testkit/module-list-preload.cjs")}`,
      MODULE_LIST_FILE: listFile,
    },
  });
  try {
    const res = await fetch(`${worker.url}/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${keys.token()}` },
      body: ACTIVE_DATABASE_PIPELINE,
    });
    expect(res.status).toBe(200);
    await res.text();
    // The archive's base is copied off the thread when its generation starts.
    await eventually(
      async () =>
        readdirSync(dataDir, { recursive: true }).some((f) => String(f).endsWith("base.db"))
          ? true
          : undefined,
      10_000,
      "the archive's base",
    );
  } finally {
    await worker.stop();
  }
  const loaded = readFileSync(listFile, "utf8").trim().split("\n");
  // The list is real: it holds what every worker uses.
  expect(loaded).toContain("net");
  expect(loaded).toContain("fs");
  expect(loaded.filter((m) => NOT_LOADED.includes(m))).toEqual([]);
});
