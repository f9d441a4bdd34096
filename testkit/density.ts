/**
 * What density is measured with, by bench/density.ts and the pooled-worker memory test alike:
 * the request an "active database" serves, and what one more worker really costs.
 */
import { readFileSync } from "node:fs";

/** A Hrana pipeline that creates, writes and reads a small table: a database's first use. */
export const ACTIVE_DATABASE_PIPELINE = JSON.stringify({
  requests: [
    { type: "execute", stmt: { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" } },
    { type: "execute", stmt: { sql: "INSERT INTO t (v) VALUES ('x')" } },
    { type: "execute", stmt: { sql: "SELECT * FROM t" } },
    { type: "close" },
  ],
});

/**
 * A process's private memory, bytes: Private_Clean + Private_Dirty of /proc/PID/smaps_rollup.
 * Pages of files other processes map too (the node binary, libraries) are not counted.
 */
export function privateBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(rollup)?.[1]) * 1024;
  return field("Private_Clean") + field("Private_Dirty");
}
