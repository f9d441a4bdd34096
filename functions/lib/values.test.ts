import { describe, expect, test } from "vitest";
import { ApiError } from "../../core/errors";
import { type SqlValue, SqlValueSchema, toInValue, toJsonValue } from "./values";

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError && err.code === "BAD_REQUEST") return err.message;
    throw err;
  }
  throw new Error("expected BAD_REQUEST");
}

describe("toInValue (request JSON → bound value)", () => {
  test("null, strings, booleans and numbers", () => {
    expect(toInValue(null)).toBeNull();
    expect(toInValue("x")).toBe("x");
    expect(toInValue(true)).toBe(1n);
    expect(toInValue(false)).toBe(0n);
    // Integral numbers bind as INTEGER, others as REAL.
    expect(toInValue(42)).toBe(42n);
    expect(toInValue(-0.5)).toBe(-0.5);
    // An integral number beyond ±2^53 is not exact: it stays a REAL, never a wrong INTEGER.
    expect(toInValue(2 ** 60)).toBe(2 ** 60);
  });

  test("typed forms: exact integers, integral REALs, blobs", () => {
    expect(toInValue({ type: "integer", value: "9223372036854775807" })).toBe(2n ** 63n - 1n);
    expect(toInValue({ type: "integer", value: "-9223372036854775808" })).toBe(-(2n ** 63n));
    expect(toInValue({ type: "float", value: 1 })).toBe(1);
    expect(toInValue({ type: "blob", base64: "AAEC" })).toEqual(new Uint8Array([0, 1, 2]));
    expect(toInValue({ type: "blob", base64: "" })).toEqual(new Uint8Array([]));
  });

  test("integers outside 64 bits and non-finite numbers are BAD_REQUEST", () => {
    expect(badRequest(() => toInValue({ type: "integer", value: "9223372036854775808" }))).toBe(
      "9223372036854775808 is outside the 64-bit integer range",
    );
    expect(badRequest(() => toInValue(Number.POSITIVE_INFINITY))).toBe("Numbers must be finite");
    expect(badRequest(() => toInValue(Number.NaN))).toBe("Numbers must be finite");
  });

  test("base64 the schema admits but atob refuses is BAD_REQUEST, not a DOMException", () => {
    for (const base64 of ["A", "AB=", "ABCDE"]) {
      const value = { type: "blob", base64 } as const;
      // The schema's pattern lets these through...
      expect(SqlValueSchema.safeParse(value).success).toBe(true);
      // ...so the decoder must refuse them as the caller's mistake (it ran inside
      // withDatabase, where any other error became WORKER_UNAVAILABLE).
      expect(badRequest(() => toInValue(value))).toBe(`"${base64}" is not valid base64`);
    }
  });

  test("the schema refuses malformed typed values", () => {
    const bad: unknown[] = [
      { type: "integer", value: "1.5" },
      { type: "integer", value: "12345678901234567890" },
      { type: "blob", base64: "not base64!" },
      { type: "float", value: "1" },
      { type: "date", value: 1 },
      [1],
    ];
    for (const value of bad) expect(SqlValueSchema.safeParse(value).success).toBe(false);
    const good: SqlValue[] = [null, "", 0, true, { type: "float", value: 2 }];
    for (const value of good) expect(SqlValueSchema.safeParse(value).success).toBe(true);
  });
});

describe("toJsonValue (result value → response JSON)", () => {
  test("integers within ±2^53 are numbers, beyond them exact decimal strings", () => {
    expect(toJsonValue(0n)).toBe(0);
    expect(toJsonValue(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(toJsonValue(BigInt(Number.MIN_SAFE_INTEGER))).toBe(Number.MIN_SAFE_INTEGER);
    expect(toJsonValue(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toBe("9007199254740992");
    expect(toJsonValue(-(2n ** 63n))).toBe("-9223372036854775808");
  });

  test("reals, text, null, and non-finite reals as strings", () => {
    expect(toJsonValue(1.25)).toBe(1.25);
    expect(toJsonValue("a")).toBe("a");
    expect(toJsonValue(null)).toBeNull();
    expect(toJsonValue(Number.POSITIVE_INFINITY)).toBe("Infinity");
  });

  test("blobs are {type: blob, base64}, large ones included", () => {
    expect(toJsonValue(new Uint8Array([0, 1, 2]).buffer)).toEqual({
      type: "blob",
      base64: "AAEC",
    });
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const encoded = toJsonValue(big.buffer) as { base64: string };
    expect(Buffer.from(encoded.base64, "base64").equals(Buffer.from(big))).toBe(true);
  });

  test("a blob survives the round trip through both directions", () => {
    const bytes = new Uint8Array([255, 0, 128, 7]);
    const json = toJsonValue(bytes.buffer) as { type: "blob"; base64: string };
    expect(toInValue(json)).toEqual(bytes);
  });
});
