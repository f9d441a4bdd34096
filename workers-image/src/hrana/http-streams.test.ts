import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, expect, test } from "vitest";
import { openTestDatabase } from "../../../testkit/database";
import { ResponseLimits } from "../engine/limits";
import { HttpStreams } from "./http-streams";
import { StoredSqlBudget } from "./sql-store";

const { db, close } = openTestDatabase("http-streams");
afterAll(close);

/** A full collection, then the heap in use: what is still reachable. */
async function heapAfterGc(): Promise<number> {
  // A closed stream gives its connection back in a callback: let those run first.
  await new Promise((resolve) => setImmediate(resolve));
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const options = {
  idleTimeoutMs: 10_000,
  tombstoneMs: 300_000,
  storedSql: new StoredSqlBudget(64 * 1024 * 1024),
};

/** A pipeline of `execute` + `close`: the stream ends with the request that opened it. */
function openAndClose(streams: HttpStreams): string | null {
  const lease = streams.acquire(undefined);
  lease.stream.close();
  return streams.release(lease);
}

/** A stream kept open by one request (its baton) and closed by the next. */
function openThenCloseLater(streams: HttpStreams): string | null {
  const baton = streams.release(streams.acquire(undefined));
  if (baton === null) throw new Error("the stream was not kept open");
  const lease = streams.acquire(baton);
  lease.stream.close();
  return streams.release(lease);
}

test("streams opened and closed, in one request or over two, leave nothing behind", async () => {
  const streams = new HttpStreams(db, { ...options, maxStreams: 100 });
  let closed = 0;
  const cycle = (times: number) => {
    for (let i = 0; i < times; i++) {
      if (openAndClose(streams) === null) closed++;
      if (openThenCloseLater(streams) === null) closed++;
    }
  };
  cycle(5_000);
  const before = await heapAfterGc();
  // Before the fix each closed stream left its id (a bigint in an array) for good: MBs
  // here, and on a busy worker more and more, until the heap limit ended it.
  cycle(100_000);
  const grown = (await heapAfterGc()) - before;
  expect(closed).toBe(210_000);
  expect(streams.openStreams).toBe(0);
  expect(grown, `${grown} bytes more`).toBeLessThan(1024 * 1024);
  streams.close();
});

test("with closed streams in between, the oldest open stream is still the one that makes room", () => {
  const streams = new HttpStreams(db, { ...options, maxStreams: 4 });
  const open = () => streams.release(streams.acquire(undefined)) as string;
  const closeMany = () => {
    for (let i = 0; i < 5000; i++) openThenCloseLater(streams);
  };
  const oldest = open();
  closeMany(); // the list of ids is rebuilt on the way
  const others = [open(), open()];
  closeMany();
  others.push(open());
  expect(streams.openStreams).toBe(4);
  others.push(open()); // a fifth: the oldest expires to make room
  expect(streams.openStreams).toBe(4);
  expect(() => streams.acquire(oldest)).toThrow(/expired/);
  for (const baton of others) expect(streams.acquire(baton).stream.isClosed).toBe(false);
  streams.close();
});

test("every way a stream ends gives its stored SQL back to the worker's budget", async () => {
  const storedSql = new StoredSqlBudget(100_000);
  const streams = new HttpStreams(db, { ...options, maxStreams: 16, storedSql });
  const budget = new ResponseLimits(1e6, 1e6).newBudget();
  /** A stream left open holding `texts` stored texts of 4,000 characters; its baton. */
  const holding = async (texts: number) => {
    const lease = streams.acquire(undefined);
    for (let id = 0; id < texts; id++) {
      await lease.stream.handle({ type: "store_sql", sqlId: id, sql: "x".repeat(4000) }, budget);
    }
    return streams.release(lease) as string;
  };
  const fill = async () => {
    const batons = [await holding(5), await holding(5)];
    // 2 × 5 texts of ~8 KB: 80 KB of 100 KB; the next five do not all fit.
    const lease = streams.acquire(undefined);
    const results = [];
    for (let id = 0; id < 5; id++) {
      results.push(
        await lease.stream
          .handle({ type: "store_sql", sqlId: id, sql: "x".repeat(4000) }, budget)
          .then(
            () => "ok",
            (err: Error) => err.message,
          ),
      );
    }
    lease.stream.close();
    streams.release(lease);
    expect(results.slice(0, 2)).toEqual(["ok", "ok"]);
    expect(results[2]).toMatch(/stored SQL texts already fill/);
    return batons;
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  // Closed by a request (the client's `close`).
  for (const baton of await fill()) {
    const lease = streams.acquire(baton);
    await lease.stream.handle({ type: "close" }, budget);
    streams.release(lease);
  }
  expect(storedSql.usedBytes).toBe(0);
  // Aborted after a protocol error.
  for (const baton of await fill()) streams.abort(streams.acquire(baton));
  expect(storedSql.usedBytes).toBe(0);
  // close_sql.
  const [one, two] = await fill();
  for (const baton of [one, two] as string[]) {
    const lease = streams.acquire(baton);
    for (let id = 0; id < 5; id++)
      await lease.stream.handle({ type: "close_sql", sqlId: id }, budget);
    lease.stream.close();
    streams.release(lease);
  }
  expect(storedSql.usedBytes).toBe(0);
  // Expired to make room for newer streams.
  await fill();
  for (let i = 0; i < 16; i++) streams.release(streams.acquire(undefined));
  expect(storedSql.usedBytes).toBe(0);
  // Closed with the worker.
  await fill();
  streams.close();
  await settle();
  expect(storedSql.usedBytes).toBe(0);
});

test("batons: each good once; an expired stream's says so; forged and out-of-range ones are invalid", () => {
  const streams = new HttpStreams(db, { ...options, maxStreams: 4 });
  const message = (baton: string) => {
    try {
      streams.release(streams.acquire(baton));
      return "accepted";
    } catch (err) {
      return (err as Error).message;
    }
  };
  const first = streams.release(streams.acquire(undefined)) as string;
  const second = streams.release(streams.acquire(first)) as string;
  expect(message(first)).toMatch(/already been used/);
  // More streams than the limit: the first (unused the longest) expires, with a tombstone.
  const others = Array.from({ length: 4 }, () => streams.release(streams.acquire(undefined)));
  expect(message(second)).toBe("The stream has expired due to inactivity");
  // Its id with another secret, and ids and sequences past 2^53 (never given out).
  const bytes = Buffer.from(second, "base64url");
  bytes[31] = (bytes[31] as number) ^ 1;
  expect(message(bytes.toString("base64url"))).toMatch(/invalid baton/);
  for (const at of [0, 8]) {
    const huge = Buffer.from(others[3] as string, "base64url");
    huge.fill(0xff, at, at + 8);
    expect(message(huge.toString("base64url"))).toMatch(/invalid baton/);
  }
  expect(message(others[3] as string)).toBe("accepted");
  streams.close();
});
