/** The last-resort handlers keep a process serving after an escaped exception or rejection. */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { expect, test } from "vitest";

test("an uncaught exception or rejection is logged as one JSON line and the process goes on", () => {
  const module = resolve(import.meta.dirname, "process.ts");
  const script = `
    const { installLastResortHandlers } = await import(${JSON.stringify(module)});
    installLastResortHandlers("probe");
    setTimeout(() => { throw new Error("boom"); }, 10);
    setTimeout(() => void Promise.reject(new Error("nope")), 20);
    setTimeout(() => console.log("still serving"), 50);
  `;
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script],
    {
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("still serving");
  const lines = run.stderr
    .trim()
    .split("\n")
    .map(
      (line) => JSON.parse(line) as { msg: string; service: string; kind: string; error: string },
    );
  expect(lines).toMatchObject([
    { service: "probe", kind: "uncaughtException", error: "Error: boom" },
    { service: "probe", kind: "unhandledRejection", error: "Error: nope" },
  ]);
});
