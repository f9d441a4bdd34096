/**
 * HTTP load for the data-path benchmarks: `wrk` (Debian) where it is installed, as it spends
 * less of this 2-core machine than a JavaScript generator, else `autocannon` (npm). Every
 * request is a POST of a JSON body that may vary per request (`body(i)`); the generator's
 * ceiling is reported in the same run (a trivial node:http server), so a figure never hides a
 * saturated generator.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { makeTempDir, removeDir } from "../testkit/temp";

export interface LoadSpec {
  name: string;
  url: string;
  /** Request bodies cycle through these (e.g. point selects of different ids). */
  bodies: string[];
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** The server's process: its CPU time (all threads) over the load is reported. */
  pid?: number;
}

export interface LoadResult {
  name: string;
  connections: number;
  requestsPerSecond: number;
  /** Responses that were not 2xx: a benchmark with any is void. */
  errors: number;
  /** With `pid`: the server's CPU time per request, µs, and the cores it kept busy on average. */
  server?: { cpuMicrosPerRequest: number; cores: number };
}

const hasWrk = spawnSync("wrk", ["--version"]).error === undefined;

export const loadGenerator = hasWrk ? "wrk" : "autocannon";

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const cpuBefore = spec.pid === undefined ? 0 : cpuSeconds(spec.pid);
  const result = hasWrk ? await wrk(spec) : await cannon(spec);
  if (result.errors > 0) {
    throw new Error(`${spec.name}: ${result.errors} responses were not 2xx`);
  }
  if (spec.pid !== undefined) {
    const cpu = cpuSeconds(spec.pid) - cpuBefore;
    const requests = result.requestsPerSecond * spec.seconds;
    result.server = { cpuMicrosPerRequest: (cpu / requests) * 1e6, cores: cpu / spec.seconds };
  }
  return result;
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

/** User + system CPU time of a process so far, all its threads, in seconds (proc(5)). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU time the scheduler ran the process's live threads, in seconds: the sum of each task's
 * schedstat (ns, exact). utime + stime are charged a whole clock tick to whoever runs at the
 * tick, too coarse for processes that wake for a few hundred microseconds at a time.
 */
export function runSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e9;
}

async function wrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = makeTempDir("wrk");
  try {
    const lua = [
      'wrk.method = "POST"',
      ...Object.entries({ "Content-Type": "application/json", ...spec.headers }).map(
        ([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`,
      ),
      `local bodies = { ${spec.bodies.map((b) => JSON.stringify(b)).join(", ")} }`,
      "local n = 0",
      "request = function()",
      "  n = n + 1",
      "  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])",
      "end",
      "done = function(summary, latency, requests)",
      '  io.write(string.format("RESULT %d %f %d\\n", summary.requests, summary.duration / 1e6, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))',
      "end",
    ].join("\n");
    const script = join(dir, "load.lua");
    writeFileSync(script, lua);
    // One thread: on 2 cores a second one takes the server's share. Not spawnSync: the server
    // may be in this very process (the functions host).
    const child = spawn(
      "wrk",
      ["-t", "1", "-c", String(spec.connections), "-d", `${spec.seconds}s`, "-s", script, spec.url],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    await new Promise((done) => child.once("close", done));
    const match = /RESULT (\d+) ([\d.]+) (\d+)/.exec(stdout);
    if (!match) throw new Error(`wrk failed: ${stderr || stdout}`);
    return {
      name: spec.name,
      connections: spec.connections,
      requestsPerSecond: Number(match[1]) / Number(match[2]),
      errors: Number(match[3]),
    };
  } finally {
    removeDir(dir);
  }
}

async function cannon(spec: LoadSpec): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", ...spec.headers },
        setupRequest: (req) => ({ ...req, body: spec.bodies[n++ % spec.bodies.length] }),
      },
    ],
  });
  return {
    name: spec.name,
    connections: spec.connections,
    requestsPerSecond: result.requests.average,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}
