/**
 * What archiving the WAL (backups, point-in-time restore) costs the worker: the same point
 * selects and autocommit inserts through two workers on copies of one file, one archiving
 * (DBFORGE_WAL_ARCHIVE=on, what the control plane runs) and one not, in the same run.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeDir } from "../testkit/temp";
import { startWorkerProcess } from "../testkit/worker";
import type { LoadResult } from "./load";
import { inserts, loadAt, makeItemsFile, pointSelects } from "./worker-throughput";

export async function benchWalArchive(): Promise<void> {
  const dir = makeTempDir("bench-archive");
  const plainDir = join(dir, "plain");
  const archivedDir = join(dir, "archived");
  const file = (d: string) => join(d, "data.sqld/dbs/default/data");
  makeItemsFile(file(plainDir));
  cpSync(join(plainDir, "data.sqld"), join(archivedDir, "data.sqld"), { recursive: true });
  const plain = await startWorkerProcess({
    dataDir: plainDir,
    env: { DBFORGE_SYNCHRONOUS: "FULL" },
  });
  const archived = await startWorkerProcess({
    dataDir: archivedDir,
    env: { DBFORGE_SYNCHRONOUS: "FULL", DBFORGE_WAL_ARCHIVE: "on" },
  });
  try {
    const rows: Array<Record<string, string | number>> = [];
    const compare = (what: string, off: LoadResult[], on: LoadResult[]) => {
      for (const r of on) {
        const base = off.find((b) => b.connections === r.connections);
        rows.push({
          benchmark: what,
          c: r.connections,
          "archiving req/s": Math.round(r.requestsPerSecond),
          "plain req/s": Math.round(base?.requestsPerSecond ?? 0),
          ratio: base ? (r.requestsPerSecond / base.requestsPerSecond).toFixed(2) : "—",
        });
      }
    };
    const url = (w: { url: string }) => `${w.url}/v2/pipeline`;
    compare(
      "point select + close",
      await loadAt("plain select", url(plain), pointSelects(true), [1, 32]),
      await loadAt("archiving select", url(archived), pointSelects(true), [1, 32]),
    );
    compare(
      "insert + close (autocommit, FULL)",
      await loadAt("plain insert", url(plain), inserts, [1, 32]),
      await loadAt("archiving insert", url(archived), inserts, [1, 32]),
    );
    console.log("\nWAL archiving (backups, point-in-time restore): the worker with it and without");
    console.table(rows);
  } finally {
    await archived.stop();
    await plain.stop();
    removeDir(dir);
  }
}
