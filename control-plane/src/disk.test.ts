/**
 * directorySize while another process creates and removes files, as a worker does with
 * SQLite's -wal and -shm: a file gone between the listing and its stat counts nothing (this
 * race made GET /v1/databases answer 500).
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { directorySize } from "./disk";

const dir = makeTempDir("disk");
afterAll(() => removeDir(dir));

test("files and directories vanishing meanwhile are not an error", async () => {
  mkdirSync(join(dir, "sub"));
  const churn = spawn(process.execPath, [
    "-e",
    `const fs = require("fs"), p = require("path");
     const end = Date.now() + 1500;
     while (Date.now() < end) for (let i = 0; i < 20; i++) {
       const d = p.join(${JSON.stringify(dir)}, "sub", "d" + i);
       fs.mkdirSync(d, { recursive: true }); fs.writeFileSync(p.join(d, "f"), "x".repeat(100));
       fs.writeFileSync(p.join(${JSON.stringify(dir)}, "f" + i), "y");
       fs.rmSync(d, { recursive: true, force: true }); fs.rmSync(p.join(${JSON.stringify(dir)}, "f" + i), { force: true });
     }`,
  ]);
  const ended = new Promise((done) => churn.once("exit", done));
  let calls = 0;
  let finished = false;
  void ended.then(() => {
    finished = true;
  });
  while (!finished) {
    expect(directorySize(dir)).toBeGreaterThanOrEqual(0);
    calls++;
    await new Promise((r) => setImmediate(r));
  }
  expect(calls).toBeGreaterThan(100);
  expect(directorySize(join(dir, "missing"))).toBe(0);
});
