/**
 * The two engines side by side (core/sqlite): point selects and inserts through a worker on the
 * stable engine, as a ratio of the same through a worker on the pre-release, in the same run.
 * The stable engine's worker pays for its watchdog (a deadline set around every statement) and
 * its statement screen.
 */
import { join } from "node:path";
import { type EngineName, selectEngine } from "../core/sqlite/index";
import { makeTempDir, removeDir } from "../testkit/temp";
import { startWorkerProcess } from "../testkit/worker";
import type { LoadResult } from "./load";
import { inserts, loadAt, makeItemsFile, pointSelects } from "./worker-throughput";

async function throughputOf(engine: EngineName): Promise<LoadResult[]> {
  const dataDir = makeTempDir(`bench-${engine}`);
  makeItemsFile(join(dataDir, "data.sqld/dbs/default/data"));
  const worker = await startWorkerProcess({
    dataDir,
    env: { DBFORGE_ENGINE: engine, DBFORGE_SYNCHRONOUS: "FULL" },
  });
  try {
    const url = `${worker.url}/v2/pipeline`;
    return [
      ...(await loadAt(`${engine}: point select`, url, pointSelects(true), [1, 32])),
      ...(await loadAt(`${engine}: insert`, url, inserts, [1, 32])),
    ];
  } finally {
    await worker.stop();
    removeDir(dataDir);
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
  const pre = preLoads ? await throughputOf("pre") : [];
  console.log(
    `\nEngines: a worker on each (client → worker over HTTP)${preLoads ? "" : "; the pre-release does not load here"}`,
  );
  console.table(
    stable.map((s, i) => {
      const base = pre[i];
      return {
        benchmark: s.name,
        c: s.connections,
        "req/s": Math.round(s.requestsPerSecond),
        baseline: base?.name ?? "—",
        "baseline req/s": base ? Math.round(base.requestsPerSecond) : "—",
        ratio: base ? (s.requestsPerSecond / base.requestsPerSecond).toFixed(2) : "—",
      };
    }),
  );
}
