/**
 * A dump waits for its client with a bound (DUMP_STALL_MS): `drained` tells a drain from a
 * closed client and from a client that takes nothing, and leaves no listener behind (a long dump
 * waits thousands of times).
 */
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { expect, test } from "vitest";
import { drained } from "./http";

/** A stream whose writes complete after `ms`, or never. */
const sink = (ms: number | undefined) =>
  new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      if (ms !== undefined) setTimeout(callback, ms);
    },
  });
const response = () => new EventEmitter() as unknown as ServerResponse;

test("drained, closed, stalled; no listener left behind", async () => {
  const res = response();
  const slow = sink(20);
  expect(slow.write("x")).toBe(false);
  expect(await drained(slow, res, 1000)).toBe("drained");

  const stuck = sink(undefined);
  expect(stuck.write("x")).toBe(false);
  expect(await drained(stuck, res, 50)).toBe("stalled");

  const waiting = drained(stuck, res, 1000);
  res.emit("close");
  expect(await waiting).toBe("closed");

  for (let i = 0; i < 50; i++) await drained(stuck, res, 1);
  expect(stuck.listenerCount("drain")).toBe(0);
  expect((res as unknown as EventEmitter).listenerCount("close")).toBe(0);
});
