/**
 * The local backup target's listing: partial files are never keys; one abandoned by a control
 * plane that died mid-upload is removed, one still being written is left alone.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { makeTempDir, removeDir } from "../../../testkit/temp";
import { LocalTarget } from "./targets";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

test("partial files are not listed; abandoned ones (untouched for 10 minutes) are removed", async () => {
  const root = makeTempDir("local-target");
  dirs.push(root);
  const target = new LocalTarget(root);
  await target.putText("shop/0001/manifest.json", "{}");
  const generation = join(root, "shop", "0001");
  mkdirSync(generation, { recursive: true });
  const abandoned = join(generation, "base.dbfb.partial-0badc0de");
  const inFlight = join(generation, "base.dbfb.partial-600dc0de");
  writeFileSync(abandoned, "left by a control plane killed mid-copy");
  writeFileSync(inFlight, "being written right now");
  const elevenMinutesAgo = (Date.now() - 11 * 60_000) / 1000;
  utimesSync(abandoned, elevenMinutesAgo, elevenMinutesAgo);

  expect(await target.list("shop/")).toEqual(["shop/0001/manifest.json"]);
  expect(existsSync(abandoned)).toBe(false);
  expect(existsSync(inFlight)).toBe(true);
});
