/**
 * The two engines side by side (core/sqlite): point selects and inserts through a worker on the
 * stable engine, as a ratio of the same through a worker on the pre-release, in the same run.
 * The stable engine's worker pays for its watchdog (a deadline set around every statement).
 */
import { createClient } from "@libsql/client";
import { type EngineName, selectEngine } from "../core/sqlite/index";
import { removeDir } from "../testkit/temp";
import { startWorkerProcess } from "../testkit/worker";
import { type Measurement, measure, report } from "./harness";

const ROWS = 10_000;

interface EngineFigures {
  select: Measurement;
  select16: Measurement;
  insert: Measurement;
}

async function throughputOf(engine: EngineName): Promise<EngineFigures> {
  const worker = await startWorkerProcess({
    env: { DBFORGE_ENGINE: engine, DBFORGE_SYNCHRONOUS: "FULL" },
  });
  const client = createClient({ url: worker.url });
  try {
    await client.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL)");
    await client.execute("CREATE TABLE sink (id INTEGER PRIMARY KEY, name TEXT)");
    await client.execute({
      sql: "INSERT INTO items WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT ?) SELECT i, 'item ' || i, i * 0.5 FROM c",
      args: [ROWS],
    });
    const id = (i: number) => 1 + (Math.abs(i * 7919) % ROWS);
    const pointSelect = (i: number) =>
      client.execute({ sql: "SELECT id, name, value FROM items WHERE id = ?", args: [id(i)] });
    return {
      select: await measure(`${engine}: point select`, 3_000, pointSelect),
      select16: await measure(`${engine}: point select, 16 concurrent`, 5_000, pointSelect, 16),
      insert: await measure(`${engine}: insert`, 1_000, (i) =>
        client.execute({ sql: "INSERT INTO sink (name) VALUES (?)", args: [`row ${i}`] }),
      ),
    };
  } finally {
    client.close();
    await worker.stop();
    removeDir(worker.dataDir);
  }
}

export async function benchEngines(): Promise<void> {
  let preLoads = true;
  try {
    selectEngine("pre");
  } catch {
    preLoads = false;
  }
  const stable = await throughputOf("stable");
  if (!preLoads) {
    console.log("\nEngines: the pre-release does not load here; stable engine only");
    report("Engines (client → worker over HTTP)", [
      { subject: stable.select16, baseline: stable.select },
    ]);
    return;
  }
  const pre = await throughputOf("pre");
  report("Engines (client → worker over HTTP): stable as a ratio of the pre-release", [
    { subject: stable.select, baseline: pre.select },
    { subject: stable.select16, baseline: pre.select16 },
    { subject: stable.insert, baseline: pre.insert },
  ]);
}
