/**
 * The message of a statement the authorizer refused. SQLite only says "not authorized"; the
 * client deserves to know what was refused and why, so the statement's tokens are searched for
 * the feature that is off limits.
 */
import type { StatementInfo } from "../../../core/sql/analyze";
import { tokenize, tokenText } from "../../../core/sql/lexer";
import { refusalReason } from "./surface";

const OWN_FILE_ONLY = "a DB-Forge database may only use its own file";

export function refusalMessage(
  stmt: StatementInfo | undefined,
  unreadableModules: ReadonlySet<string>,
): string {
  const [first, second] = stmt?.keywords ?? [];
  if (first === "ATTACH")
    return `SQLite error: not authorized: ATTACH is disabled (${OWN_FILE_ONLY})`;
  if (first === "VACUUM") {
    return `SQLite error: not authorized: VACUUM INTO is disabled (${OWN_FILE_ONLY})`;
  }
  if (first === "PRAGMA") {
    const name = (second ?? "").toLowerCase();
    return `SQLite error: not authorized: PRAGMA ${name} is not available (${refusalReason("pragma", name)})`;
  }
  const module = stmt ? refusedModuleOf(stmt, unreadableModules) : undefined;
  if (module) {
    return `SQLite error: not authorized: the virtual table module ${module} is not available (${refusalReason("module", module)})`;
  }
  return "SQLite error: not authorized: the statement uses a disabled feature (see DB-Forge's list of allowed SQL features)";
}

/** The module a statement names after USING, or any unreadable module it mentions. */
function refusedModuleOf(stmt: StatementInfo, unreadable: ReadonlySet<string>): string | undefined {
  const createsVirtualTable = stmt.keywords[0] === "CREATE" && stmt.keywords[1] === "VIRTUAL";
  let afterUsing = false;
  for (const token of tokenize(stmt.sql)) {
    if (token.kind !== "word" && token.kind !== "quoted") continue;
    const raw = stmt.sql.slice(token.start, token.end);
    const name = tokenText(raw).toLowerCase();
    if (afterUsing) return name;
    afterUsing = createsVirtualTable && name === "using";
    if (unreadable.has(name)) return name;
  }
  return undefined;
}
