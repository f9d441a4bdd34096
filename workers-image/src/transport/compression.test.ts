/** Whole-answer compression is bounded: past MAX_COMPRESSING at once, answers go as they are. */
import type { Transform } from "node:stream";
import { gunzipSync } from "node:zlib";
import { expect, test } from "vitest";
import { compress, compressor, MAX_COMPRESSING } from "./compression";

test(`at most ${MAX_COMPRESSING} answers are compressed at once; the rest are not refused, just sent plain`, async () => {
  const body = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ i, name: `row ${i}` })));
  const running = Array.from({ length: MAX_COMPRESSING }, () => compress(body, "gzip"));
  expect(running.every((p) => p !== undefined)).toBe(true);
  expect(compress(body, "gzip")).toBeUndefined();
  expect(compress(body, "br")).toBeUndefined();
  const done = await Promise.all(running);
  for (const bytes of done) expect(gunzipSync(bytes as Buffer).toString()).toBe(body);
  // Slots come back once their compression is done.
  const again = [compress(body, "br"), compress(body, "gzip")];
  expect(again.every((p) => p !== undefined)).toBe(true);
  await Promise.all(again);
});

test("a dump's compressing stream holds a slot until it closes, however it ends", async () => {
  const closed = (stream: Transform | undefined) =>
    new Promise((resolve) => stream?.once("close", resolve));
  const ended = compressor("gzip");
  const destroyed = compressor("br");
  expect(ended && destroyed).toBeDefined();
  expect(compressor("gzip")).toBeUndefined();
  expect(compress("x".repeat(10_000), "gzip")).toBeUndefined();
  // One ends normally (read to its end), the other is destroyed (its client went away).
  ended?.resume();
  ended?.end("some dump");
  destroyed?.destroy();
  await Promise.all([closed(ended), closed(destroyed)]);
  const again = [compressor("gzip"), compressor("br")];
  expect(again.every((s) => s !== undefined)).toBe(true);
  for (const s of again) s?.destroy();
  await Promise.all(again.map(closed));
});
