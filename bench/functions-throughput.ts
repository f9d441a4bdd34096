/**
 * The functions hop under load: a point select through the Node functions host, as REST
 * (POST /api/db/{name}/query) and as Hrana through the libSQL proxy (/db/{name}/v2/pipeline),
 * next to the same pipeline sent to the database's worker directly, with the worker token the
 * control plane hands out, in the same run, and through a bare relay (node:http in, undici's
 * pool out, the body passed through: no auth, no checks, no log), the ceiling of a hop built on
 * node:http and undici, and through a raw relay (HTTP framed by hand on both sides,
 * ./raw-relay.ts), the ceiling of any Node hop on this machine. And large JSON answers with and
 * without compression.
 */
import { createServer, request } from "node:http";
import { Pool } from "undici";
import { startFunctionsHost } from "../functions/host/index";
import { startControlPlaneProcess } from "../testkit/control-plane-process";
import { workerProcesses } from "../testkit/processes";
import { removeDir } from "../testkit/temp";
import type { LoadResult } from "./load";
import { rawRelay } from "./raw-relay";
import { loadAt, pointSelects, ROWS } from "./worker-throughput";

const restSelects = Array.from({ length: 1000 }, (_, i) =>
  JSON.stringify({
    sql: "SELECT id, name, value FROM items WHERE id = ?",
    params: [1 + ((i * 7919) % ROWS)],
  }),
);

export async function benchFunctions(): Promise<void> {
  const cp = await startControlPlaneProcess();
  const hostOn = (fastLane: "on" | "off") =>
    startFunctionsHost({
      env: {
        CONTROL_PLANE_URL: cp.url,
        RATE_LIMIT_PER_CREDENTIAL: "0",
        RATE_LIMIT_PER_DATABASE: "0",
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        FAST_LANE: fastLane,
      },
      hostname: "127.0.0.1",
      port: 0,
    });
  const host = await hostOn("on");
  // The same host without its fast lane (functions/host/proxy-lane.ts): the proxy's full path.
  const fullPathHost = await hostOn("off");
  try {
    const admin = { Authorization: `Bearer ${cp.adminToken}`, "Content-Type": "application/json" };
    const call = async (path: string, body: unknown) => {
      const res = await fetch(`${host.url}${path}`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await call("/admin/databases", { name: "bench" });
    await call("/api/db/bench/batch", {
      statements: [
        { sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL)" },
        {
          sql: `INSERT INTO items SELECT value, 'item ' || value, value * 0.5 FROM generate_series(1, ${ROWS})`,
        },
      ],
    });
    // What a client of the database holds: a full-access token of its own.
    const { token } = (await call("/admin/databases/bench/tokens", {
      access: "full-access",
    })) as { token: string };
    const bearer = { Authorization: `Bearer ${token}` };
    const resolved = (await (await cp.api("POST", "/v1/databases/bench/resolve")).json()) as {
      url: string;
      token: string;
    };

    const concurrency = [1, 32];
    const direct = await loadAt(
      "worker direct: execute + close",
      `${resolved.url}/v2/pipeline`,
      pointSelects(true),
      concurrency,
      {
        headers: { Authorization: `Bearer ${resolved.token}` },
        pid: workerProcesses(cp.dataDir).get("bench")?.[0],
      },
    );
    const relay = await bareRelay(resolved.url, resolved.token);
    // The relay and the host run in this process (wrk is a process of its own): its CPU time
    // is theirs.
    const bare = await loadAt(
      "bare relay (node:http + undici)",
      `${relay.url}/v2/pipeline`,
      pointSelects(true),
      concurrency,
      { pid: process.pid },
    ).finally(() => relay.close());
    const raw = await rawRelay(resolved.url, resolved.token);
    const framed = await loadAt(
      "raw relay (node:net, framed by hand)",
      `${raw.url}/v2/pipeline`,
      pointSelects(true),
      concurrency,
      { pid: process.pid },
    ).finally(() => raw.close());
    const rest = await loadAt(
      "REST /api/db/{name}/query",
      `${host.url}/api/db/bench/query`,
      restSelects,
      concurrency,
      { headers: bearer, pid: process.pid },
    );
    const proxy = await loadAt(
      "proxy /db/{name}/v2/pipeline",
      `${host.url}/db/bench/v2/pipeline`,
      pointSelects(true),
      concurrency,
      { headers: bearer, pid: process.pid },
    );
    const fullPath = await loadAt(
      "proxy, full path (FAST_LANE=off)",
      `${fullPathHost.url}/db/bench/v2/pipeline`,
      pointSelects(true),
      concurrency,
      { headers: bearer, pid: process.pid },
    );
    console.log("\nThe functions hop: point select through the Node functions host");
    const rows: Array<{ r: LoadResult; goal?: number }> = [
      ...bare.map((r) => ({ r })),
      ...framed.map((r) => ({ r })),
      ...rest.map((r) => ({ r, goal: 0.7 })),
      ...proxy.map((r) => ({ r, goal: 0.8 })),
      ...fullPath.map((r) => ({ r })),
    ];
    console.table(
      rows.map(({ r, goal }) => {
        const base = direct.find((d) => d.connections === r.connections);
        const ceiling = bare.find((d) => d.connections === r.connections);
        const ratio = base ? r.requestsPerSecond / base.requestsPerSecond : 0;
        return {
          benchmark: r.name,
          c: r.connections,
          "req/s": Math.round(r.requestsPerSecond),
          "worker direct req/s": Math.round(base?.requestsPerSecond ?? 0),
          ratio: ratio.toFixed(2),
          goal: goal === undefined ? "" : `≥ ${goal}${ratio >= goal ? " ✓" : " ✗"}`,
          "of the bare relay": ceiling
            ? (r.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)
            : "",
          // The hop's own CPU per request, next to the worker's (the row's worker direct).
          "hop CPU µs/req": r.server ? Math.round(r.server.cpuMicrosPerRequest) : "—",
          "worker CPU µs/req": base?.server ? Math.round(base.server.cpuMicrosPerRequest) : "—",
        };
      }),
    );

    const large = "SELECT * FROM items LIMIT 5000";
    await compression([
      {
        from: "REST (Node host)",
        url: `${host.url}/api/db/bench/query`,
        body: JSON.stringify({ sql: large }),
        headers: bearer,
      },
      {
        from: "worker direct (Hrana)",
        url: `${resolved.url}/v2/pipeline`,
        body: JSON.stringify({
          requests: [{ type: "execute", stmt: { sql: large } }, { type: "close" }],
        }),
        headers: { Authorization: `Bearer ${resolved.token}` },
      },
    ]);
  } finally {
    await host.close();
    await fullPathHost.close();
    await cp.stop();
    removeDir(cp.dataDir);
  }
}

/**
 * The least any Node hop does: a request read whole, sent on through a pool of kept-alive
 * connections with the worker token, the answer written back. What it reaches next to the
 * worker direct is what two HTTP exchanges cost here, before any of the host's own work.
 */
async function bareRelay(
  workerUrl: string,
  token: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool(new URL(workerUrl).origin, { connections: 32, pipelining: 1 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const answer = await pool.request({
        path: req.url ?? "/",
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      res.writeHead(answer.statusCode, {
        "content-type": "application/json",
        "content-length": body.length,
      });
      res.end(body);
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise((closed) => server.close(closed));
      await pool.close();
    },
  };
}

interface LargeAnswer {
  /** Who answers: the Node host (REST) or the worker itself. */
  from: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** A 5,000-row select: bytes on the wire and time, plain and compressed, from each source. */
async function compression(sources: LargeAnswer[]): Promise<void> {
  const rows = [];
  for (const source of sources) {
    let plain = 1;
    for (const encoding of ["identity", "gzip", "br"]) {
      const runs = 20;
      let last = { bytes: 0, encoding: "" };
      const started = performance.now();
      for (let i = 0; i < runs; i++) {
        last = await rawPost(source.url, source.body, {
          ...source.headers,
          "Content-Type": "application/json",
          "Accept-Encoding": encoding,
        });
      }
      if (encoding === "identity") plain = last.bytes;
      rows.push({
        from: source.from,
        "Accept-Encoding": encoding,
        "Content-Encoding": last.encoding,
        "ms per answer": ((performance.now() - started) / runs).toFixed(1),
        "bytes on the wire": last.bytes,
        "of plain": (last.bytes / plain).toFixed(2),
      });
    }
  }
  console.log("\nA large answer (5,000 rows of SELECT * FROM items)");
  console.table(rows);
}

/** A POST whose answer is counted as sent (fetch would decompress it). */
function rawPost(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ bytes: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () =>
        resolve({ bytes, encoding: String(res.headers["content-encoding"] ?? "identity") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}
