import { ApiError } from "../../core/errors";

/**
 * Identifiers from requests (table and column names) are only ever used quoted, so no name can
 * break out of its place in a statement. Names with control characters are refused outright.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 128 || [...name].some((ch) => ch.charCodeAt(0) < 0x20)) {
    throw new ApiError("BAD_REQUEST", `"${name.slice(0, 40)}" is not a usable identifier`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL literal for a column DEFAULT (values are never interpolated anywhere else). */
export function sqlLiteral(value: string | number | boolean | null): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new ApiError("BAD_REQUEST", "Default values must be finite numbers");
    return String(value);
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** Tables users can see: not SQLite's, libSQL's or Cloudflare's internal ones. */
export const USER_TABLES =
  "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'libsql\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'";
