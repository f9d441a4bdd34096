import { z } from "@hono/zod-openapi";
import { ApiError } from "../../core/errors";
import { base64ToBytes, bytesToBase64 } from "./base64";
import type { InValue, Value } from "./hrana/client";

/**
 * SQL values in the REST API's JSON:
 * - null, strings, booleans (stored as 1/0) and numbers; integral numbers bind as INTEGER,
 *   others as REAL;
 * - {"type": "integer", "value": "9223372036854775807"} for integers beyond ±2^53;
 * - {"type": "float", "value": 1} for a REAL that happens to be integral;
 * - {"type": "blob", "base64": "AAEC"} for blobs.
 * In results, integers within ±2^53 are numbers and larger ones decimal strings (never rounded);
 * blobs are {"type": "blob", "base64": ...}.
 */
export const SqlValueSchema = z
  .union([
    z.null(),
    z.string(),
    z.number(),
    z.boolean(),
    z.object({ type: z.literal("integer"), value: z.string().regex(/^-?\d{1,19}$/) }),
    z.object({ type: z.literal("float"), value: z.number() }),
    z.object({ type: z.literal("blob"), base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/) }),
  ])
  .openapi("SqlValue", { description: "A SQL value (see the API description for the JSON forms)" });

export type SqlValue = z.infer<typeof SqlValueSchema>;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export function toInValue(value: SqlValue): InValue {
  if (value === null || typeof value === "string") return value;
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ApiError("BAD_REQUEST", "Numbers must be finite");
    return Number.isInteger(value) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  switch (value.type) {
    case "integer": {
      const n = BigInt(value.value);
      if (n < I64_MIN || n > I64_MAX)
        throw new ApiError("BAD_REQUEST", `${value.value} is outside the 64-bit integer range`);
      return n;
    }
    case "float":
      return value.value;
    case "blob":
      return requestBytes(value.base64);
  }
}

export type JsonValue = null | string | number | { type: "blob"; base64: string };

export function toJsonValue(value: Value): JsonValue {
  if (value === null || typeof value === "string") return value;
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (value instanceof ArrayBuffer)
    return { type: "blob", base64: bytesToBase64(new Uint8Array(value)) };
  return String(value);
}

/** The bytes of a base64 value from a request; the caller's 400 when it is not base64. */
function requestBytes(base64: string): Uint8Array {
  // The schema's pattern admits the alphabet, not every length or padding ("A", "AB="); atob
  // refuses those, and its DOMException must be the caller's 400, not a failed worker call.
  try {
    return base64ToBytes(base64);
  } catch {
    throw new ApiError("BAD_REQUEST", `"${base64.slice(0, 40)}" is not valid base64`);
  }
}
