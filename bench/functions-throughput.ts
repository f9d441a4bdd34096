/**
 * REST throughput through the Node functions host (POST /api/db/{name}/query) next to
 * @libsql/client talking to the same worker directly, as a ratio.
 */
import { createClient } from "@libsql/client";
import { startFunctionsHost } from "../functions/host/index";
import { startControlPlaneProcess } from "../testkit/control-plane-process";
import { removeDir } from "../testkit/temp";
import { measure, report } from "./harness";

const ROWS = 10_000;

export async function benchFunctions(): Promise<void> {
  const cp = await startControlPlaneProcess();
  const host = await startFunctionsHost({
    env: { CONTROL_PLANE_URL: cp.url },
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    const headers = {
      Authorization: `Bearer ${cp.adminToken}`,
      "Content-Type": "application/json",
    };
    await fetch(`${host.url}/admin/databases`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "bench" }),
    });
    const rest = async (sql: string, params: unknown[]) => {
      const res = await fetch(`${host.url}/api/db/bench/query`, {
        method: "POST",
        headers,
        body: JSON.stringify({ sql, params }),
      });
      if (!res.ok) throw new Error(await res.text());
      return res.json();
    };
    await rest("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL)", []);
    await rest("CREATE TABLE sink (id INTEGER PRIMARY KEY, name TEXT)", []);
    await rest(
      "INSERT INTO items WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT ?) SELECT i, 'item ' || i, i * 0.5 FROM c",
      [ROWS],
    );
    const { url, token } = (await (await cp.api("POST", "/v1/databases/bench/resolve")).json()) as {
      url: string;
      token: string;
    };
    const direct = createClient({ url, authToken: token });
    const id = (i: number) => 1 + (Math.abs(i * 7919) % ROWS);
    const select = "SELECT id, name, value FROM items WHERE id = ?";

    const directSelect = await measure("@libsql/client → worker", 3_000, (i) =>
      direct.execute({ sql: select, args: [id(i)] }),
    );
    const restSelect = await measure("REST → functions → worker", 3_000, (i) =>
      rest(select, [id(i)]),
    );
    const directSelect16 = await measure(
      "@libsql/client → worker (16 concurrent)",
      5_000,
      (i) => direct.execute({ sql: select, args: [id(i)] }),
      16,
    );
    const restSelect16 = await measure(
      "REST → functions → worker (16 concurrent)",
      5_000,
      (i) => rest(select, [id(i)]),
      16,
    );
    report("REST point select vs direct @libsql/client", [
      { subject: restSelect, baseline: directSelect },
      { subject: restSelect16, baseline: directSelect16 },
    ]);

    const insert = "INSERT INTO sink (name) VALUES (?)";
    const directInsert = await measure("@libsql/client → worker", 1_000, (i) =>
      direct.execute({ sql: insert, args: [`d${i}`] }),
    );
    const restInsert = await measure("REST → functions → worker", 1_000, (i) =>
      rest(insert, [`r${i}`]),
    );
    report("REST insert vs direct @libsql/client (synchronous=FULL)", [
      { subject: restInsert, baseline: directInsert },
    ]);
    direct.close();
  } finally {
    await host.close();
    await cp.stop();
    removeDir(cp.dataDir);
  }
}
