/**
 * Density: many active databases on one machine (process driver). Each database is created and
 * answers a query; then the machine's used memory (MemAvailable in /proc/meminfo, before and
 * after) and each worker's private memory (Private_Clean + Private_Dirty of smaps_rollup: what
 * one more database really costs, the node binary and libraries being shared) are reported, and
 * extrapolated to the issue's 1,000 databases on a 24 GB machine. BENCH_DATABASES sets the count
 * (default 100; 1000 for the full run, a few minutes on 2 cores). Then, with no request at all
 * for IDLE_SECONDS, the CPU the idle workers and the control plane take (the threads' run time
 * in schedstat): what 1,000 databases that are not in use cost the machine's cores.
 */
import { readFileSync } from "node:fs";
import { request } from "undici";
import { startControlPlaneProcess } from "../testkit/control-plane-process";
import { ACTIVE_DATABASE_PIPELINE, privateBytes } from "../testkit/density";
import { workerProcesses } from "../testkit/processes";
import { removeDir } from "../testkit/temp";
import { median } from "./harness";
import { runSeconds } from "./load";

const DATABASES = Number(process.env.BENCH_DATABASES ?? 100);
const MIB = 1024 * 1024;
/** One whole health-probe interval (DENSITY_ENV), so every database is probed once in it. */
const IDLE_SECONDS = 30;
/** Before the idle figure: every worker past its first seconds (V8's memory reducer, the archive's base copy). */
const IDLE_SETTLE_SECONDS = 15;

/**
 * Production's rounds, spelled out: the test kit's control plane checks health every 200 ms
 * (tests wait for restarts), which made every idle worker answer five probes a second. Idle
 * timeout raised so no database stops during the run.
 */
const DENSITY_ENV = {
  DBFORGE_IDLE_TIMEOUT_S: "3600",
  DBFORGE_HEALTH_INTERVAL_MS: "5000",
  DBFORGE_HEALTH_PROBE_INTERVAL_MS: "30000",
};

function availableBytes(): number {
  const kb = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
  return Number(kb) * 1024;
}

export async function benchDensity(): Promise<void> {
  const cp = await startControlPlaneProcess({ env: DENSITY_ENV });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const before = availableBytes();
    const started = performance.now();
    for (let i = 0; i < DATABASES; i++) {
      const name = `dense-${i}`;
      const res = await cp.api("POST", "/v1/databases", { name });
      if (res.status !== 201) throw new Error(`${name}: ${res.status} ${await res.text()}`);
      const { url, token } = (await (
        await cp.api("POST", `/v1/databases/${name}/resolve`)
      ).json()) as { url: string; token: string };
      const answer = await request(`${url}/v2/pipeline`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: ACTIVE_DATABASE_PIPELINE,
      });
      await answer.body.text();
    }
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    const used = before - availableBytes();
    const pids = [...workerProcesses(cp.dataDir).values()].flat();
    const privates = pids.map(privateBytes);
    const perDatabase = used / DATABASES;
    // Idle: no request for IDLE_SECONDS (the control plane's own checks go on).
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_SECONDS * 1000));
    const cpPid = cp.process.pid as number;
    const workersBefore = pids.map(runSeconds);
    const cpBefore = runSeconds(cpPid);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const workersIdle =
      pids.reduce((sum, pid, i) => sum + runSeconds(pid) - (workersBefore[i] as number), 0) /
      IDLE_SECONDS;
    const cpIdle = (runSeconds(cpPid) - cpBefore) / IDLE_SECONDS;
    const rows = [
      {
        figure: "private memory per worker (median)",
        value: `${(median(privates) / MIB).toFixed(1)} MiB`,
        goal: "≤ 10 MiB",
        met: median(privates) <= 10 * MIB ? "✓" : "✗",
      },
      {
        figure: "private memory per worker (max)",
        value: `${(Math.max(...privates) / MIB).toFixed(1)} MiB`,
        goal: "",
        met: "",
      },
      {
        figure: `machine's used memory, ${DATABASES} active databases`,
        value: `${(used / MIB).toFixed(0)} MiB (${(perDatabase / MIB).toFixed(1)} MiB each)`,
        goal: "",
        met: "",
      },
      {
        figure: "… extrapolated to 1,000 active databases",
        value: `${((perDatabase * 1000) / 1024 ** 3).toFixed(1)} GiB`,
        goal: "≤ 12 GiB",
        met: perDatabase * 1000 <= 12 * 1024 ** 3 ? "✓" : "✗",
      },
      {
        figure: `idle CPU per worker (${IDLE_SECONDS} s without requests, after ${IDLE_SETTLE_SECONDS} s)`,
        value: `${((workersIdle / pids.length) * 1000).toFixed(2)} ms/s`,
        goal: "",
        met: "",
      },
      {
        figure: "idle CPU of the control plane, per database",
        value: `${((cpIdle / DATABASES) * 1000).toFixed(2)} ms/s`,
        goal: "",
        met: "",
      },
      {
        figure: "… idle CPU extrapolated to 1,000 databases (workers + control plane)",
        value: `${((workersIdle / pids.length + cpIdle / DATABASES) * 1000).toFixed(2)} cores`,
        goal: "",
        met: "",
      },
      {
        figure: "time to create and query them",
        value: `${seconds.toFixed(1)} s (${((seconds * 1000) / DATABASES).toFixed(0)} ms each)`,
        goal: "",
        met: "",
      },
    ];
    console.log(`\nDensity: ${DATABASES} active databases, process driver (BENCH_DATABASES)`);
    console.table(rows);
  } finally {
    await cp.stop();
    removeDir(cp.dataDir);
  }
}
