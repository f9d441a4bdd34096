/**
 * Which PRAGMA statements a connection may run. The authorizer (./authorizer.ts) refuses pragmas
 * that are not classified, but it only sees a pragma's name: whether the statement *sets* it
 * (an argument follows the name) is read here, from the statement's tokens, before SQLite
 * prepares it. Preparing is enough for SQLite to apply many pragmas, so this check comes first.
 */

import type { StatementInfo } from "../../../core/sql/analyze";
import { tokenize, tokenText } from "../../../core/sql/lexer";
import { SqlError } from "../engine/errors";
import { pragmaClass, refusalReason } from "./surface";

export interface PragmaUse {
  /** The pragma's name, lower-cased and unquoted. */
  name: string;
  /** Anything after the name: `= value`, `(value)`. */
  hasArgument: boolean;
}

/** The pragma a statement runs (also under EXPLAIN), or undefined for any other statement. */
export function pragmaOf(stmt: StatementInfo): PragmaUse | undefined {
  const [first, second, , fourth] = stmt.keywords;
  const isPragma =
    first === "PRAGMA" ||
    (first === "EXPLAIN" && (second === "PRAGMA" || (second === "QUERY" && fourth === "PRAGMA")));
  if (!isPragma) return undefined;
  const tokens: string[] = [];
  let seenPragma = false;
  for (const token of tokenize(stmt.sql)) {
    if (token.kind === "space") continue;
    const text = stmt.sql.slice(token.start, token.end);
    if (!seenPragma) {
      seenPragma = token.kind === "word" && text.toUpperCase() === "PRAGMA";
      continue;
    }
    tokens.push(token.kind === "quoted" || token.kind === "string" ? tokenText(text) : text);
  }
  // PRAGMA [schema.]name [= value | (value)]
  const qualified = tokens[1] === ".";
  const name = (qualified ? tokens[2] : tokens[0]) ?? "";
  const rest = tokens.length - (qualified ? 3 : 1);
  return { name: name.toLowerCase(), hasArgument: rest > 0 };
}

/**
 * Refuses a pragma statement the connection may not run: unclassified and internal pragmas for
 * everyone, setting a server-managed one for everyone, and anything that writes the database
 * file for read-only connections.
 */
export function checkPragma(stmt: StatementInfo, readOnly: boolean, walArchived = false): void {
  if (stmt.keywords[0] !== "PRAGMA" && stmt.keywords[0] !== "EXPLAIN") return;
  const pragma = pragmaOf(stmt);
  if (!pragma) return;
  const { name, hasArgument } = pragma;
  const cls = pragmaClass(name);
  if (cls === undefined || cls === "internal") {
    throw new SqlError(
      "SQLITE_AUTH",
      `SQLite error: not authorized: PRAGMA ${name} is not available (${refusalReason("pragma", name)})`,
    );
  }
  // While the WAL is archived only the archiver checkpoints (right after archiving): a
  // checkpoint or an automatic one from a client could let SQLite overwrite frames first.
  if (
    walArchived &&
    (name === "wal_checkpoint" || (name === "wal_autocheckpoint" && hasArgument))
  ) {
    throw new SqlError(
      "SQLITE_AUTH",
      `SQLite error: not authorized: PRAGMA ${name} is managed by the server (it archives the WAL for point-in-time restore)`,
    );
  }
  if (cls === "managed" && hasArgument) {
    throw new SqlError(
      "SQLITE_AUTH",
      `SQLite error: not authorized: PRAGMA ${name} is managed by the server and cannot be changed`,
    );
  }
  const writes = cls === "action" || (cls === "persistent" && hasArgument);
  if (writes && readOnly) {
    throw new SqlError(
      "SQLITE_READONLY",
      `SQLite error: attempt to write a readonly database (the token only grants read access; PRAGMA ${name}${cls === "action" ? "" : " = …"} writes the database file)`,
      "SQLITE_READONLY",
    );
  }
}
