import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/**
 * The last `max` bytes of a worker's log from byte `from` on, as text ("" if it cannot be
 * read). Only those bytes are read: a start polls its log every few milliseconds, and a
 * database's log grows with every start, so reading the whole file each time (synchronously,
 * on the control plane's one thread) made parallel starts wait on one another's reads.
 */
export function readLogTail(path: string, from: number, max: number): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - max, 0);
    if (start >= size) return "";
    const bytes = Buffer.allocUnsafe(size - start);
    const read = readSync(fd, bytes, 0, bytes.length, start);
    // A cut through a multi-byte character at the start decodes as U+FFFD: harmless in a tail.
    return bytes.toString("utf8", 0, read);
  } catch {
    return "";
  } finally {
    closeSync(fd);
  }
}
