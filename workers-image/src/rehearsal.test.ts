/**
 * A pooled worker's rehearsal serves its throwaway database for real (it rejects when any
 * answer is not a 200) and leaves nothing behind on disk, even when the process is ended
 * part-way (a pooled worker exits at once when its control plane goes away).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { REHEARSAL_DIR_PREFIX } from "../../core/worker-pool";
import { engineEnv, testEngine } from "../../testkit/engine";
import { ROOT } from "../../testkit/paths";
import { rehearse } from "./rehearsal";

const rehearsalDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith(REHEARSAL_DIR_PREFIX));

test("the rehearsal's pipelines are answered, and its directory is removed", async () => {
  testEngine();
  const before = rehearsalDirs();
  await expect(rehearse()).resolves.toBeUndefined();
  expect(rehearsalDirs()).toEqual(before);
});

test("a process that exits mid-rehearsal takes the rehearsal's directory with it", () => {
  // The directory is made as rehearse() is called; the exit comes while it awaits the
  // throwaway worker's start.
  const script = `
    const { testEngine } = await import(${JSON.stringify(join(ROOT, "testkit/engine.ts"))});
    testEngine();
    const { rehearse } = await import(${JSON.stringify(join(ROOT, "workers-image/src/rehearsal.ts"))});
    void rehearse();
    console.log(JSON.stringify(${JSON.stringify(REHEARSAL_DIR_PREFIX)} + process.pid));
    setImmediate(() => process.exit(0));
  `;
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script],
    {
      cwd: ROOT,
      env: { ...process.env, ...engineEnv },
      encoding: "utf8",
    },
  );
  expect(child.status, child.stderr).toBe(0);
  const prefix = JSON.parse(child.stdout.trim().split("\n").at(-1) as string) as string;
  expect(rehearsalDirs().filter((f) => f.startsWith(`${prefix}-`))).toEqual([]);
});
