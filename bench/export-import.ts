/**
 * Export and import throughput (MB/s of SQL dump) through the functions host, against Debian's
 * sqlite3 `.dump` and `.read` of the same data in the same run.
 */
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFunctionsHost } from "../functions/host/index";
import { startControlPlaneProcess } from "../testkit/control-plane-process";
import { makeTempDir, removeDir } from "../testkit/temp";

const ROWS = 40_000;

export async function benchExportImport(): Promise<void> {
  const cp = await startControlPlaneProcess();
  const host = await startFunctionsHost({
    env: { CONTROL_PLANE_URL: cp.url, RATE_LIMIT_PER_CREDENTIAL: "0", LOG_LEVEL: "warn" },
    hostname: "127.0.0.1",
    port: 0,
  });
  const dir = makeTempDir("bench-export");
  try {
    const auth = { Authorization: `Bearer ${cp.adminToken}` };
    const query = async (sql: string) => {
      const res = await fetch(`${host.url}/api/db/src/query`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ sql }),
      });
      if (!res.ok) throw new Error(await res.text());
    };
    await fetch(`${host.url}/admin/databases`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "src" }),
    });
    await query("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL, payload BLOB)");
    for (let done = 0; done < ROWS; done += 10_000) {
      await query(
        `WITH RECURSIVE c(x) AS (SELECT ${done + 1} UNION ALL SELECT x + 1 FROM c WHERE x < ${done + 10_000}) INSERT INTO items SELECT x, 'item ' || x, x * 0.5, randomblob(500) FROM c`,
      );
    }

    let started = performance.now();
    const dump = await (await fetch(`${host.url}/api/db/src/export`, { headers: auth })).text();
    const exportS = (performance.now() - started) / 1000;
    const mb = Buffer.byteLength(dump) / 1e6;
    started = performance.now();
    const imported = await fetch(`${host.url}/admin/databases/dst/import`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/sql" },
      body: dump,
    });
    if (imported.status !== 201) throw new Error(await imported.text());
    const importS = (performance.now() - started) / 1000;

    // The baseline: sqlite3 on the same database file and the same dump.
    const file = join(cp.dataDir, "src", "iku.db", "dbs", "default", "data");
    const sqliteDump = join(dir, "sqlite3.sql");
    started = performance.now();
    execFileSync("sh", ["-c", `sqlite3 '${file}' .dump > '${sqliteDump}'`]);
    const sqliteExportS = (performance.now() - started) / 1000;
    const sqliteMb = statSync(sqliteDump).size / 1e6;
    const ours = join(dir, "ours.sql");
    writeFileSync(ours, dump);
    started = performance.now();
    execFileSync("sqlite3", [join(dir, "read.db"), `.read ${ours}`]);
    const sqliteImportS = (performance.now() - started) / 1000;

    console.log(`\nExport and import of a ${mb.toFixed(0)} MB SQL dump (${ROWS} rows), MB/s`);
    console.table([
      {
        benchmark: "export GET /api/db/{name}/export",
        "MB/s": (mb / exportS).toFixed(1),
        baseline: "sqlite3 .dump",
        "baseline MB/s": (sqliteMb / sqliteExportS).toFixed(1),
        ratio: (mb / exportS / (sqliteMb / sqliteExportS)).toFixed(2),
      },
      {
        benchmark: "import POST /admin/databases/{name}/import",
        "MB/s": (mb / importS).toFixed(1),
        baseline: "sqlite3 .read (same dump)",
        "baseline MB/s": (mb / sqliteImportS).toFixed(1),
        ratio: (mb / importS / (mb / sqliteImportS)).toFixed(2),
      },
    ]);
  } finally {
    await host.close();
    await cp.stop();
    removeDir(cp.dataDir);
    removeDir(dir);
  }
}
