/**
 * Worker throughput: @libsql/client → worker over HTTP (and WebSocket) next to in-process libsql
 * on the same file with the same settings, as a ratio. Run with `npm run bench`.
 */
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { openNative } from "../core/sqlite";
import { removeDir } from "../testkit/temp";
import { startWorkerProcess } from "../testkit/worker";
import { measure, report } from "./harness";

const ROWS = 10_000;

export async function benchWorker(): Promise<void> {
  const worker = await startWorkerProcess({ env: { DBFORGE_SYNCHRONOUS: "FULL" } });
  try {
    const http = createClient({ url: worker.url });
    const ws = createClient({ url: worker.wsUrl });
    await http.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL)");
    await http.execute("CREATE TABLE sink_remote (id INTEGER PRIMARY KEY, name TEXT)");
    await http.execute("CREATE TABLE sink_local (id INTEGER PRIMARY KEY, name TEXT)");
    await http.execute({
      sql: "INSERT INTO items WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT ?) SELECT i, 'item ' || i, i * 0.5 FROM c",
      args: [ROWS],
    });

    // The baseline: the same engine in this process, on the same file, with the same pragmas.
    const local = openNative(join(worker.dataDir, "data.sqld/dbs/default/data"), 60_000);
    local.exec("PRAGMA synchronous = FULL");
    const select = local.prepare("SELECT id, name, value FROM items WHERE id = ?");
    const insert = local.prepare("INSERT INTO sink_local (name) VALUES (?)");
    const id = (i: number) => 1 + (Math.abs(i * 7919) % ROWS);

    const localSelect = await measure("in-process libsql", 50_000, (i) => [
      ...select.iterate([BigInt(id(i))]),
    ]);
    const httpSelect = await measure("client → worker (http)", 3_000, (i) =>
      http.execute({ sql: "SELECT id, name, value FROM items WHERE id = ?", args: [id(i)] }),
    );
    const httpSelect16 = await measure(
      "client → worker (http, 16 concurrent)",
      5_000,
      (i) => http.execute({ sql: "SELECT id, name, value FROM items WHERE id = ?", args: [id(i)] }),
      16,
    );
    const wsSelect = await measure("client → worker (ws)", 5_000, (i) =>
      ws.execute({ sql: "SELECT id, name, value FROM items WHERE id = ?", args: [id(i)] }),
    );
    report("Point select (one row by primary key)", [
      { subject: httpSelect, baseline: localSelect },
      { subject: httpSelect16, baseline: localSelect },
      { subject: wsSelect, baseline: localSelect },
    ]);

    const localInsert = await measure("in-process libsql", 2_000, (i) => insert.run([`row ${i}`]));
    const httpInsert = await measure("client → worker (http)", 1_000, (i) =>
      http.execute({ sql: "INSERT INTO sink_remote (name) VALUES (?)", args: [`row ${i}`] }),
    );
    const httpInsert16 = await measure(
      "client → worker (http, 16 concurrent)",
      2_000,
      (i) => http.execute({ sql: "INSERT INTO sink_remote (name) VALUES (?)", args: [`row ${i}`] }),
      16,
    );
    report("Insert (one row per autocommit transaction, synchronous=FULL)", [
      { subject: httpInsert, baseline: localInsert },
      { subject: httpInsert16, baseline: localInsert },
    ]);

    local.close();
    http.close();
    ws.close();
  } finally {
    await worker.stop();
    removeDir(worker.dataDir);
  }
}
