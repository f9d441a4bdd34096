/**
 * Hostile inputs for the fuzz tests: path segments, query strings, header values and bodies.
 * Segments are returned *as sent* (percent-encoding included); raw bytes (invalid UTF-8) are
 * latin1 characters, written to the wire one byte each by the raw sender.
 */
import type { Rng } from "./prng";

/** Percent-encodings that do not decode, or decode to something no name may contain. */
export const BAD_ENCODINGS = [
  "%E0%A4%A",
  "%",
  "%%",
  "%G1",
  "%zz",
  "%c3%28",
  "%ff",
  "%FF%FE",
  "%ed%a0%80",
  "%00",
  "%0d%0a",
  "%2F",
  "%2e%2e",
  "%2e",
  "%5c",
  "%u0041",
  "%C0%AF",
  "%F0%9F%92%A9",
];

/** Raw bytes that are not valid UTF-8 (latin1 string: one character per byte). */
export const INVALID_UTF8 = ["\xff", "\xc3\x28", "\xe0\xa4", "\xed\xa0\x80", "\xc0\xaf", "\x80"];

export const SAFE_SQL = [
  "SELECT 1",
  "SELECT 1 AS one, 'x' AS two",
  "CREATE TABLE IF NOT EXISTS t (x)",
  "INSERT INTO t VALUES (1)",
  "SELECT * FROM t LIMIT 5",
  "SELECT * FROM nope",
  "SELEC 1",
  "SELECT ?",
  "SELECT :a",
  "",
  ";",
  "SELECT '\u0000'",
  "SELECT 'ü💩'",
  "PRAGMA table_info(t)",
];

/** Percent-encodes some of the characters of `s` (%70eer for peer), in either hex case. */
export function encodeSome(rng: Rng, s: string): string {
  let out = "";
  for (const ch of s) {
    if (rng.chance(0.4)) {
      const hex = ch.charCodeAt(0).toString(16).padStart(2, "0");
      out += `%${rng.chance(0.5) ? hex.toUpperCase() : hex}`;
    } else out += ch;
  }
  return out;
}

/** A path segment standing for a database (or table) name. */
export function nameSegment(rng: Rng, real: readonly string[], long = 5000): string {
  return rng.weighted<() => string>([
    [5, () => rng.pick(real)],
    [2, () => encodeSome(rng, rng.pick(real))],
    [1, () => `nope-${rng.int(0, 9999)}`],
    [0.5, () => rng.pick(["admin", "db", "default", "health", "-x", "x-", "A", "a_b"])],
    [2, () => rng.pick(BAD_ENCODINGS) + (rng.chance(0.5) ? rng.pick(real) : "")],
    [1, () => rng.pick(INVALID_UTF8) + rng.pick(real)],
    [1, () => rng.pick(["..", ".", "", "%20", " ", "\t", "~", "*", ":", ";", "@"])],
    [0.5, () => "a".repeat(rng.int(64, long))],
    [0.5, () => encodeURIComponent("ümlaut-💩")],
    [1, () => encodeURIComponent(rng.ascii(rng.int(1, 40)))],
    [0.5, () => rng.ascii(rng.int(1, 20)).replace(/[/?#]/g, "")],
  ])();
}

/** A junk segment for anywhere in a path. */
export function junkSegment(rng: Rng): string {
  return rng.weighted<() => string>([
    [2, () => rng.pick(BAD_ENCODINGS)],
    [1, () => rng.pick(INVALID_UTF8)],
    [1, () => rng.pick(["..", ".", "", "%2e%2e", "..%2f..", "\\..\\"])],
    [1, () => encodeURIComponent(rng.ascii(rng.int(1, 30)))],
    [0.3, () => "x".repeat(rng.int(1000, 20_000))],
    [0.05, () => "y".repeat(100_000)],
    [1, () => rng.pick(["v2", "v3", "pipeline", "cursor", "health", "version", "admin"])],
  ])();
}

export function queryString(rng: Rng): string {
  if (rng.chance(0.6)) return "";
  const params = Array.from({ length: rng.int(1, 4) }, () => {
    const key = rng.pick(["limit", "offset", "order", "select", "cursor", "count", "x", "a%ZZ"]);
    const value = rng.weighted<() => string>([
      [2, () => rng.pick(["-1", "0", "1", "1e309", "abc", "99999999999999999999", "true"])],
      [2, () => rng.pick(BAD_ENCODINGS)],
      [1, () => rng.pick(["eq.1", "gt.x", "in.(1,2", "like.%25", "is.null", "x.desc,-y"])],
      [1, () => encodeURIComponent(rng.ascii(rng.int(0, 50)))],
      [0.3, () => "q".repeat(rng.int(1000, 30_000))],
    ])();
    return `${key}=${value}`;
  });
  return `?${params.join(rng.pick(["&", "&&", ";"]))}`;
}

/** Nested JSON arrays or objects, `depth` deep. */
export function deepJson(rng: Rng, depth: number): string {
  return rng.chance(0.5)
    ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** A hostile body variant around a well-formed one (`valid`, JSON). */
export function body(rng: Rng, valid: () => unknown, maxBodyBytes: number): Buffer | undefined {
  return rng.weighted<() => Buffer | undefined>([
    [6, () => Buffer.from(JSON.stringify(valid()))],
    [2, () => undefined],
    [2, () => Buffer.from(JSON.stringify(valid()).slice(0, rng.int(0, 20)))],
    [1, () => Buffer.from(rng.pick(["{", "[", "null", "1", '"x"', "{}", "[]", "true", " "]))],
    [1, () => Buffer.from(`{"sql": "${rng.pick(INVALID_UTF8)}"}`, "latin1")],
    [1, () => rng.bytes(rng.int(1, 300))],
    [0.5, () => Buffer.from(deepJson(rng, rng.pick([100, 5_000, 100_000])))],
    [0.3, () => Buffer.alloc(maxBodyBytes + rng.int(1, 1000), "a")],
    [0.5, () => Buffer.from(JSON.stringify({ sql: "x".repeat(rng.int(10_000, 200_000)) }))],
    [1, () => Buffer.from(`${JSON.stringify(valid())}garbage`)],
  ])();
}

export function contentType(rng: Rng): string | undefined {
  return rng.weighted<() => string | undefined>([
    [8, () => "application/json"],
    [1, () => undefined],
    [1, () => rng.pick(["text/plain", "application/x-www-form-urlencoded", "application/xml"])],
    [1, () => rng.pick(["multipart/form-data; boundary=x", "multipart/form-data", "*/*", ";;;"])],
    [1, () => rng.pick(["application/json; charset=latin1", "APPLICATION/JSON", "json"])],
  ])();
}

/** Credentials by kind: what the generators pick from; `admin` is guarded (see requests.ts). */
export interface Credentials {
  admin: string;
  /** Tokens of the databases under test (any access). */
  database: string[];
  /** A token of another database. */
  foreign: string;
}

export type AuthKind = "none" | "admin" | "database" | "foreign" | "garbage";

export function authKind(rng: Rng): AuthKind {
  return rng.weighted<AuthKind>([
    [2, "none"],
    [3, "admin"],
    [3, "database"],
    [1, "foreign"],
    [2, "garbage"],
  ]);
}

/** Authorization header values (latin1) for `kind`; several means duplicate headers. */
export function authorization(rng: Rng, kind: AuthKind, creds: Credentials): string[] {
  const token =
    kind === "admin"
      ? creds.admin
      : kind === "database"
        ? rng.pick(creds.database)
        : kind === "foreign"
          ? creds.foreign
          : undefined;
  if (kind === "none") return [];
  if (token) {
    const value = rng.weighted<() => string>([
      [8, () => `Bearer ${token}`],
      [1, () => `bearer   ${token}  `],
      [1, () => `Bearer ${token.slice(0, -3)}abc`],
      [1, () => `Basic ${Buffer.from(`x:${token}`).toString("base64")}`],
    ])();
    return rng.chance(0.05) ? Array(100).fill(value) : [value];
  }
  const garbage = rng.weighted<() => string>([
    [2, () => rng.pick(["Bearer", "Bearer ", "Bearer  ", "bearer x", "Token abc", "Basic Og=="])],
    [1, () => `Bearer ${rng.ascii(rng.int(1, 200))}`],
    [1, () => `Bearer eyJhbGciOiJFZERTQSJ9.${rng.ascii(40)}.${rng.ascii(20)}`],
    [1, () => `Bearer ${rng.pick(INVALID_UTF8)}${rng.ascii(10)}`],
    [0.5, () => `Bearer ${"A".repeat(rng.int(8_000, 40_000))}`],
    [0.5, () => `Bearer x\u0000y`],
  ])();
  return rng.chance(0.1) ? Array(rng.int(2, 100)).fill(garbage) : [garbage];
}
