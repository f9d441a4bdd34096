/**
 * Data directories for pre-started containers (./docker-pool.ts). A container's bind mount is
 * fixed when it is created, before anyone knows which database it will serve, so a pooled
 * container mounts an empty slot directory (<dataRoot>/.pool/<slot>); a claim hands the slot
 * over to the database: the database's entries are renamed into the slot, and the slot is
 * renamed into the database's place. The mount follows the directory, not its name, so the
 * container then sees exactly the database's files, and db-data/<name> is again a plain
 * directory for everyone else. Renames within one file system: nothing is copied, nothing is
 * half-written; a crash part-way is finished by `recoverSlots` at the next start, from the
 * mark (`.pool/<slot>.handover`, naming the database) written before anything moves and
 * removed after the last rename: the database's directory never holds it.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { validateDatabaseName } from "../../../core/names";

/** Where slots live, beside the databases (a name no database can have). */
export const SLOTS_DIR = ".pool";

/** Beside a slot: names the database it is being handed to. */
const MARK_SUFFIX = ".handover";

const markPath = (dataRoot: string, slot: string) => `${slotPath(dataRoot, slot)}${MARK_SUFFIX}`;

export function slotPath(dataRoot: string, slot: string): string {
  return join(dataRoot, SLOTS_DIR, slot);
}

/** A new, empty slot directory (root's, 0700 until the handover gives it to the database). */
export function createSlot(dataRoot: string, slot: string): string {
  const path = slotPath(dataRoot, slot);
  mkdirSync(join(dataRoot, SLOTS_DIR), { recursive: true, mode: 0o700 });
  mkdirSync(path, { mode: 0o700 });
  return path;
}

export function removeSlot(dataRoot: string, slot: string): void {
  rmSync(slotPath(dataRoot, slot), { recursive: true, force: true });
}

/** Makes the slot the database's directory, with every file the database already had. */
export function handOver(dataRoot: string, slot: string, name: string): void {
  const mark = markPath(dataRoot, slot);
  // Whole or not at all: a mark is only ever read complete.
  writeFileSync(`${mark}.tmp`, name, { mode: 0o600 });
  renameSync(`${mark}.tmp`, mark);
  complete(dataRoot, slot, name);
}

/** Moves what is left of the database into the slot, puts the slot in its place, unmarks. */
function complete(dataRoot: string, slot: string, name: string): void {
  const slotDir = slotPath(dataRoot, slot);
  const dbDir = join(dataRoot, name);
  if (existsSync(slotDir)) {
    moveEntries(dbDir, slotDir);
    renameSync(slotDir, dbDir);
  }
  rmSync(markPath(dataRoot, slot), { force: true });
}

/**
 * Finishes or undoes what a crash interrupted, then removes every other slot (their containers
 * are gone or about to be: a slot is never reused). Run before the pool starts.
 */
export function recoverSlots(dataRoot: string): void {
  const root = join(dataRoot, SLOTS_DIR);
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    if (!entry.endsWith(MARK_SUFFIX)) continue;
    const slot = entry.slice(0, -MARK_SUFFIX.length);
    const name = nameIn(join(root, entry));
    if (name !== undefined) complete(dataRoot, slot, name);
    rmSync(join(root, entry), { force: true });
  }
  for (const entry of readdirSync(root))
    rmSync(join(root, entry), { recursive: true, force: true });
}

function nameIn(mark: string): string | undefined {
  try {
    return validateDatabaseName(readFileSync(mark, "utf8"));
  } catch {
    return undefined;
  }
}

/** Renames every entry of `from` (if it exists) into `to`, then removes `from`. */
function moveEntries(from: string, to: string): void {
  if (!existsSync(from)) return;
  for (const entry of readdirSync(from)) renameSync(join(from, entry), join(to, entry));
  rmdirSync(from);
}
