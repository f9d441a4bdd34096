import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { readLogTail } from "./log-tail";

const dir = mkdtempSync(join(tmpdir(), "dbforge-log-tail-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the tail of a long log from a byte offset, without the earlier starts' lines", () => {
  const path = join(dir, "worker.log");
  writeFileSync(path, `${'{"msg":"listening","addr":"127.0.0.1:1111"}\n'.repeat(50_000)}`);
  const offset = statSync(path).size;
  expect(readLogTail(path, offset, 64 * 1024)).toBe("");
  appendFileSync(path, '{"msg":"listening","addr":"127.0.0.1:2222"}\n');
  expect(readLogTail(path, offset, 64 * 1024)).toBe(
    '{"msg":"listening","addr":"127.0.0.1:2222"}\n',
  );
  // `max` bounds what is read, from the end.
  expect(readLogTail(path, 0, 10)).toBe('.1:2222"}\n');
  expect(readLogTail(path, 0, 10_000).length).toBe(10_000);
});

test("offsets are bytes, not characters: a log with non-ASCII text before the offset", () => {
  const path = join(dir, "utf8.log");
  writeFileSync(path, "déjà vu ✓\n");
  const offset = Buffer.byteLength("déjà vu ✓\n");
  appendFileSync(path, "next\n");
  expect(readLogTail(path, offset, 1000)).toBe("next\n");
});

test("a log that is not there reads as empty", () => {
  expect(readLogTail(join(dir, "missing.log"), 0, 100)).toBe("");
});
