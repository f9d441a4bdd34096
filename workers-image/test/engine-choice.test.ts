/**
 * The engine is chosen at run time by what loads (core/sqlite): on a platform where the
 * pre-release was never published, `auto` runs the stable engine, and forcing `pre` fails at
 * start with a clear error. Simulated on a copy of the worker bundle laid out as the image lays
 * it out (app/worker.cjs beside app/node_modules), with the pre-release's native build removed or
 * made unloadable.
 */
import { cpSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, expect, test } from "vitest";
import { enginePackages } from "../../testkit/image";
import { ROOT, WORKER_BUNDLE } from "../../testkit/paths";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { startWorkerProcess } from "../../testkit/worker";

const PRE_PACKAGE = `libsql-linux-${process.arch}-gnu`;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** A copy of the bundle and the engines' packages; `breakPre` decides what happens to the pre-release. */
function bundleCopy(breakPre: "missing" | "unloadable" | "intact"): string {
  const root = makeTempDir("engine-choice");
  dirs.push(root);
  cpSync(WORKER_BUNDLE, join(root, "app/worker.cjs"));
  for (const name of enginePackages()) {
    cpSync(join(ROOT, "node_modules", name), join(root, "app/node_modules", name), {
      recursive: true,
      dereference: true,
    });
  }
  const pre = join(root, "app/node_modules", PRE_PACKAGE);
  if (breakPre === "missing") rmSync(pre, { recursive: true, force: true });
  if (breakPre === "unloadable") {
    for (const file of readdirSync(pre).filter((f) => f.endsWith(".node"))) {
      writeFileSync(join(pre, file), "not a native addon for this platform");
    }
  }
  return join(root, "app/worker.cjs");
}

async function versionOf(bundle: string, engine: string): Promise<string> {
  const worker = await startWorkerProcess({ bundle, env: { DBFORGE_ENGINE: engine } });
  dirs.push(worker.dataDir);
  try {
    const client = createClient({ url: worker.url });
    const rs = await client.execute("SELECT 40 + 2 AS answer");
    expect(rs.rows[0]?.answer).toBe(42);
    client.close();
    return await (await fetch(`${worker.url}/version`)).text();
  } finally {
    await worker.stop();
  }
}

const prePublishedHere = enginePackages().includes(PRE_PACKAGE);

test.runIf(prePublishedHere)("auto runs the pre-release where it loads", async () => {
  expect(await versionOf(bundleCopy("intact"), "auto")).toMatch(/, pre engine\)$/);
  expect(await versionOf(bundleCopy("intact"), "stable")).toMatch(/, stable engine\)$/);
});

test.each(["missing", "unloadable"] as const)(
  "auto runs the stable engine where the pre-release is %s",
  async (breakPre) => {
    const bundle = bundleCopy(breakPre);
    expect(await versionOf(bundle, "auto")).toMatch(/\(libsql-js 0\.5\.\d+, stable engine\)$/);
    // Forcing the missing engine is a clear start-up error, not a half-working worker.
    const dataDir = makeTempDir("engine-forced");
    dirs.push(dataDir);
    const forced = await startWorkerProcess({
      bundle,
      dataDir,
      env: { DBFORGE_ENGINE: "pre" },
    }).then(
      () => new Error("a worker started on an engine that cannot load"),
      (err: Error) => err,
    );
    expect(forced.message).toMatch(/worker exited with 1/);
    expect(forced.message).toMatch(
      /DBFORGE_ENGINE=pre: libsql 0\.6\.0-pre\.41 cannot load here \([a-z0-9]+-[a-z0-9]+\): /,
    );
  },
);
