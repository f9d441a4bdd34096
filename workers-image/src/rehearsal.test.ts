/**
 * A pooled worker's rehearsal serves its throwaway database for real (it rejects when any
 * answer is not a 200) and leaves nothing behind on disk.
 */
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { expect, test } from "vitest";
import { testEngine } from "../../testkit/engine";
import { rehearse } from "./rehearsal";

const rehearsalDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith("dbforge-rehearsal-"));

test("the rehearsal's pipelines are answered, and its directory is removed", async () => {
  testEngine();
  const before = rehearsalDirs();
  await expect(rehearse()).resolves.toBeUndefined();
  expect(rehearsalDirs()).toEqual(before);
});
