/**
 * The lint rule that keeps dependencies pointing one way (biome.json, noRestrictedImports per
 * folder) really fails on a cross-service import, and lets core/ imports through. A probe file
 * is written into each service, linted with the project's own configuration, and removed.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const BIOME = join(ROOT, "node_modules/.bin/biome");

/** Lints `source` as a file in `dir`; the import diagnostics it gets. */
function lint(dir: string, source: string): { ok: boolean; output: string } {
  const file = join(ROOT, dir, `boundary-probe-${process.pid}.ts`);
  writeFileSync(file, source);
  try {
    const run = spawnSync(BIOME, ["lint", "--max-diagnostics=5", file], {
      cwd: ROOT,
      encoding: "utf8",
    });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(file, { force: true });
  }
}

const probe = (from: string) => `import { x } from "${from}";\n\nexport const y = x;\n`;

test.each([
  ["control-plane/src", "../../functions/lib/env"],
  ["control-plane/src", "../../workers-image/src/env"],
  ["functions/lib", "../../control-plane/src/manager"],
  ["functions/lib", "../../workers-image/src/sandbox/surface"],
  ["workers-image/src", "../../functions/lib/env"],
  ["core", "../control-plane/src/keys"],
  ["cli/commands", "../../control-plane/src/manager"],
  ["control-plane/test", "../../functions/test/fuzz/prng"],
])("%s may not import %s", (dir, from) => {
  const { ok, output } = lint(dir, probe(from));
  expect(ok, output).toBe(false);
  expect(output).toMatch(/noRestrictedImports/);
});

test.each([
  ["control-plane/src", "../../core/errors"],
  ["functions/lib", "../../core/control-plane-api"],
  ["workers-image/src", "../../core/sql/analyze"],
  ["cli/commands", "../../control-plane/index"],
  ["cli/commands", "../../functions/client"],
])("%s may import %s", (dir, from) => {
  const { ok, output } = lint(dir, probe(from));
  expect(output).not.toMatch(/noRestrictedImports/);
  expect(ok, output).toBe(true);
});
