/**
 * Handing a pool slot over to a database (./slot-dir.ts), and finishing one a crash cut short
 * at every point between its renames: the database ends up with exactly its files, in its
 * own directory, and no slot is left. Asserted on the files.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { makeTempDir, removeDir } from "../../../testkit/temp";
import { createSlot, handOver, recoverSlots, SLOTS_DIR, slotPath } from "./slot-dir";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) removeDir(root);
});

/** A database directory with a few entries, as a worker leaves it. */
function database(root: string, name: string): Record<string, string> {
  const dir = join(root, name);
  mkdirSync(join(dir, "iku.db", "dbs", "default"), { recursive: true });
  const files: Record<string, string> = {
    "iku.db/dbs/default/data": `pages of ${name}`,
    "iku.db/dbs/default/data-wal": "frames",
    "dbforge-usage.json": "{}",
    "reserve.bin": "reserve",
  };
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return files;
}

function expectDatabase(root: string, name: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files))
    expect(readFileSync(join(root, name, path), "utf8"), path).toBe(content);
  expect(readdirSync(join(root, name)).sort()).toEqual(
    [...new Set(Object.keys(files).map((p) => p.split("/")[0] as string))].sort(),
  );
}

test("a handover moves the database into the slot, and the slot into the database's place", () => {
  const root = makeTempDir("slots");
  roots.push(root);
  const files = database(root, "shop");
  createSlot(root, "aa01");
  const slotDir = slotPath(root, "aa01");
  // What a container has mounted is the slot directory itself (its inode), not its name.
  const inode = statSync(slotDir).ino;
  handOver(root, "aa01", "shop");
  expect(statSync(join(root, "shop")).ino).toBe(inode);
  expectDatabase(root, "shop", files);
  expect(existsSync(slotDir)).toBe(false);
  expect(readdirSync(join(root, SLOTS_DIR))).toEqual([]);
});

test("a new database (no directory yet) gets the empty slot", () => {
  const root = makeTempDir("slots");
  roots.push(root);
  createSlot(root, "bb02");
  handOver(root, "bb02", "fresh");
  expect(readdirSync(join(root, "fresh"))).toEqual([]);
});

test("a crash at any point of a handover is finished at the next start; unmarked slots go", () => {
  const entries = ["dbforge-usage.json", "iku.db", "reserve.bin"];
  // Crash points: 0 = after the mark, k = after k entries moved, then after the old directory
  // is gone, then after the slot took its place (the mark not yet removed).
  for (let point = 0; point <= entries.length + 2; point++) {
    const root = makeTempDir("slots");
    roots.push(root);
    const files = database(root, "shop");
    createSlot(root, "cc03");
    createSlot(root, "unclaimed");
    const slotDir = slotPath(root, "cc03");
    const dbDir = join(root, "shop");
    writeFileSync(`${slotDir}.handover`, "shop");
    const moved = readdirSync(dbDir).sort();
    for (const entry of moved.slice(0, Math.min(point, moved.length)))
      renameSync(join(dbDir, entry), join(slotDir, entry));
    if (point > entries.length) rmdirSync(dbDir);
    if (point > entries.length + 1) renameSync(slotDir, dbDir);

    recoverSlots(root);
    expectDatabase(root, "shop", files);
    expect(readdirSync(join(root, SLOTS_DIR)), `crash point ${point}`).toEqual([]);
  }
});

test("a mark that names no valid database is not followed", () => {
  const root = makeTempDir("slots");
  roots.push(root);
  createSlot(root, "dd04");
  writeFileSync(`${slotPath(root, "dd04")}.handover`, "../../etc");
  recoverSlots(root);
  expect(readdirSync(root)).toEqual([SLOTS_DIR]);
  expect(readdirSync(join(root, SLOTS_DIR))).toEqual([]);
});
