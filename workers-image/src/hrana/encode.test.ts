import { describe, expect, test } from "vitest";
import type { SqlValue } from "../engine/connection";
import { encodeStmtResult, serialize, serializePipeline } from "./encode";
import type { PipelineRespBody, StreamResult } from "./proto";

/** A seeded generator: a failure names its seed, and runs again the same. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

// Everything JSON.stringify treats specially in a string, and what it leaves alone.
const PIECES = [
  "a",
  "Z",
  " ",
  '"',
  "\\",
  "/",
  "\u0000",
  "\n",
  "\t",
  "\u001f",
  "\u007f",
  "é",
  "\u2028",
  "\u2029",
  "😀",
  "\ud800",
  "\udfff",
  "\ud83d",
  "<",
  "nonfinite-",
];

function text(next: () => number): string {
  const length = next() < 0.05 ? 300 : Math.floor(next() * 12);
  let s = "";
  for (let i = 0; i < length; i++) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

const FLOATS = [0, -0, 0.5, -1.25, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, NaN];

function sqlValue(next: () => number): SqlValue {
  const kind = Math.floor(next() * 5);
  if (kind === 0) return null;
  if (kind === 1)
    return BigInt(Math.floor((next() - 0.5) * 2 ** 53)) * (next() < 0.2 ? 2n ** 10n : 1n);
  if (kind === 2)
    return next() < 0.5 ? (FLOATS[Math.floor(next() * FLOATS.length)] as number) : next() * 1e6;
  if (kind === 3) return text(next);
  return Buffer.from(
    Array.from({ length: Math.floor(next() * 8) }, () => Math.floor(next() * 256)),
  );
}

function executeResult(next: () => number): StreamResult {
  const width = Math.floor(next() * 4);
  const columns = Array.from({ length: width }, () => ({
    name: text(next),
    decltype: next() < 0.3 ? null : text(next),
  }));
  const rows = Array.from({ length: Math.floor(next() * 4) }, () =>
    Array.from({ length: width }, () => sqlValue(next)),
  );
  const result = encodeStmtResult({
    columns,
    rows,
    affectedRowCount: Math.floor(next() * 10),
    lastInsertRowid: BigInt(Math.floor(next() * 1e6)),
    durationMs: next() * 3,
  } as Parameters<typeof encodeStmtResult>[0]);
  // The wire type allows what encodeStmtResult never makes: a nameless column, no decltype.
  if (next() < 0.1) result.cols.push({ name: null });
  if (next() < 0.1) result.last_insert_rowid = null;
  return { type: "ok", response: { type: "execute", result } };
}

function anyResult(next: () => number): StreamResult {
  const kind = Math.floor(next() * 6);
  if (kind <= 2) return executeResult(next);
  if (kind === 3) return { type: "ok", response: { type: "close" } };
  if (kind === 4) return { type: "error", error: { message: text(next), code: "SQLITE_ERROR" } };
  return { type: "ok", response: { type: "get_autocommit", is_autocommit: next() < 0.5 } };
}

describe("serializePipeline", () => {
  test("writes exactly what serialize writes, for every kind of value (2,000 random responses)", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const next = random(seed);
      const body: PipelineRespBody = {
        baton: next() < 0.5 ? null : text(next),
        base_url: next() < 0.9 ? null : text(next),
        results: Array.from({ length: Math.floor(next() * 4) }, () => anyResult(next)),
      };
      const expected = serialize(body);
      expect(serializePipeline(body), `seed ${seed}`).toBe(expected);
    }
  });

  test("keeps non-finite floats as the bare literals sqld sends", () => {
    const body: PipelineRespBody = {
      baton: null,
      base_url: null,
      results: [executeResult(() => 0)],
    };
    const result = encodeStmtResult({
      columns: [
        { name: "a", decltype: null },
        { name: "b", decltype: null },
      ],
      rows: [[Infinity, -Infinity]],
      affectedRowCount: 0,
      lastInsertRowid: 0n,
      durationMs: 0,
    } as Parameters<typeof encodeStmtResult>[0]);
    body.results = [{ type: "ok", response: { type: "execute", result } }];
    expect(serializePipeline(body)).toContain(
      '"rows":[[{"type":"float","value":1e999},{"type":"float","value":-1e999}]]',
    );
  });
});
