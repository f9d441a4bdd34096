/**
 * An idle worker sleeps. Its WAL archiver looks at the WAL unasked every 100 ms while the
 * database is in use, then less and less often while nothing changes: once a second while
 * something is due (a segment to rotate), then down to every 30 s; an ask for a backup is seen
 * by watching for its file. Its other timers run only while needed, or every 5 s.
 * A fixed 100 ms poll woke every idle worker ten times a second (a stat, a read and an
 * access(2) each time): at 1,000 databases on two cores, that was most of the machine
 * (bench/density.ts). Requests on either transport still have their writes archived at once,
 * and a backup's ask is still taken within about a second.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  GENERATION_REQUEST_FILE,
  listGenerations,
  listSegments,
  parseSegment,
  segmentName,
  WAL_ARCHIVE_DIR,
} from "../../core/wal-archive";
import { RawClient } from "../../testkit/hrana-ws";
import { makeTempDir, removeDir } from "../../testkit/temp";
import { eventually, sleep } from "../../testkit/wait";
import { startWorkerProcess, type WorkerProcess } from "../../testkit/worker";

const dir = makeTempDir("idle-worker");
const dbPath = join(dir, "data.sqld");
const archive = join(dbPath, WAL_ARCHIVE_DIR);
let worker: WorkerProcess;
let startedAt = 0;
/** A segment holding a commit is closed (for shipping) this long after it was opened. */
const SEGMENT_MS = 3000;

beforeAll(async () => {
  startedAt = Date.now();
  worker = await startWorkerProcess({
    dataDir: dir,
    env: {
      DBFORGE_WAL_ARCHIVE: "on",
      DBFORGE_WAL_SEGMENT_MS: String(SEGMENT_MS),
      SQLD_IDLE_SHUTDOWN_TIMEOUT_S: "3600",
    },
  });
  const res = await fetch(`${worker.url}/v2/pipeline`, {
    method: "POST",
    headers: { connection: "close" },
    body: JSON.stringify({
      requests: [
        { type: "execute", stmt: { sql: "CREATE TABLE t (i INTEGER PRIMARY KEY)" } },
        { type: "close" },
      ],
    }),
  });
  expect(res.status).toBe(200);
  await res.text();
});

afterAll(async () => {
  await worker.stop();
  removeDir(dir);
});

/** Times the worker's main thread went to sleep and was woken (its tid is its pid). */
function wakeUps(): number {
  const pid = worker.process.pid as number;
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8");
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]);
}

/** Commits in the archive's newest generation. */
function archivedCommits(): number {
  const generation = join(archive, listGenerations(archive).at(-1) as string);
  let commits = 0;
  for (const seq of listSegments(generation)) {
    const parsed = parseSegment(readFileSync(join(generation, segmentName(seq))));
    commits += parsed?.marks.filter((m) => m.kind === "commit").length ?? 0;
  }
  return commits;
}

test("an idle archiving worker's main thread sleeps for seconds at a time", async () => {
  // Settled: the client's connection gone, the first segment rotated (after SEGMENT_MS: until
  // then the archiver looks every second), and V8's memory reducer (about 8 s after start: a burst of
  // wake-ups) done.
  await sleep(Math.max(0, startedAt + 12_000 - Date.now()));
  const before = wakeUps();
  await sleep(10_000);
  const woken = wakeUps() - before;
  // Measured over 10 s: 3–4 now (node:http's connection check every 5 s, the archiver's
  // looks ever further apart); 24 with a look, a connection check every second and the
  // usage and idle intervals; 120 with the fixed 100 ms poll.
  expect(woken).toBeLessThan(10);
});

test("a WebSocket write to an idle worker is archived at once, not at the next look", async () => {
  const ws = await RawClient.connect(worker.wsUrl);
  try {
    expect((await ws.hello()).type).toBe("hello_ok");
    expect((await ws.request({ type: "open_stream", stream_id: 1 })).type).toBe("response_ok");
    // Three times, each after the archiver has slowed down again: an unasked look could
    // land in the 50 ms once, hardly three times.
    for (let i = 1; i <= 3; i++) {
      await sleep(2500);
      const before = archivedCommits();
      const answer = await ws.request({
        type: "execute",
        stream_id: 1,
        stmt: { sql: `INSERT INTO t VALUES (${i})`, want_rows: false },
      });
      expect(answer.type).toBe("response_ok");
      await sleep(50);
      expect(archivedCommits()).toBe(before + 1);
    }
  } finally {
    ws.ws.close();
  }
});

test("a backup's ask is taken within about a second by an idle worker", async () => {
  await sleep(2500);
  const generations = listGenerations(archive).length;
  const asked = Date.now();
  writeFileSync(join(dbPath, GENERATION_REQUEST_FILE), String(asked));
  await eventually(
    async () => (listGenerations(archive).length > generations ? true : undefined),
    5000,
    "a new generation",
  );
  expect(Date.now() - asked).toBeLessThan(2000);
});

test("a write to a resting worker is still closed into a segment by age, with no request after it", async () => {
  await sleep(2500);
  const generation = join(archive, listGenerations(archive).at(-1) as string);
  const insert = async (value: number) => {
    const res = await fetch(`${worker.url}/v2/pipeline`, {
      method: "POST",
      headers: { connection: "close" },
      body: JSON.stringify({
        requests: [
          { type: "execute", stmt: { sql: `INSERT INTO t VALUES (${value})` } },
          { type: "close" },
        ],
      }),
    });
    expect(res.status).toBe(200);
    await res.text();
  };
  // The first write lands in a segment opened long ago, which is closed at once; the second in
  // the new one, which only an unasked look closes, SEGMENT_MS after it opened.
  const before = listSegments(generation).length;
  await insert(100);
  await eventually(
    async () => (listSegments(generation).length > before ? true : undefined),
    2000,
    "the old segment closed",
  );
  const opened = Date.now();
  const segments = listSegments(generation).length;
  await insert(101);
  await eventually(
    async () => (listSegments(generation).length > segments ? true : undefined),
    SEGMENT_MS + 5000,
    "the segment closed",
  );
  expect(Date.now() - opened).toBeGreaterThan(SEGMENT_MS - 500);
  expect(Date.now() - opened).toBeLessThan(SEGMENT_MS + 2000);
});
