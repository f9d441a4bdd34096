/**
 * The statement screen: the sandbox's SQL layer on engines without an action-level authorizer
 * (the stable engine, see core/sqlite). Before SQLite prepares a statement, its tokens are read
 * for what a tenant may not reach: ATTACH, VACUUM INTO, a call to a function the surface does not
 * allow, a module it does not allow. Tokens are SQLite's own (comments and quoting hide nothing),
 * and the rules are deliberately wider than the grammar:
 *
 * - a function is refused when its name (a word or a quoted identifier) is followed by `(`;
 *   SQLite's grammar admits no other way to call one;
 * - a module is refused when any word or quoted identifier names it, wherever it stands (so a
 *   column named `csv` is refused too, on this engine only), and when a 'string' names it where
 *   SQLite reads a string as a table name: a FROM or JOIN item (also after a comma or an opening
 *   parenthesis of the FROM list), the target of INTO or UPDATE, next to a `.`, before a `(`.
 *
 * Schema objects (views, triggers, defaults) that reach the file from elsewhere are kept from
 * dangerous functions and modules by `trusted_schema=OFF` (see ../engine/connection.ts).
 */

import type { StatementInfo } from "../../../core/sql/analyze";
import { tokenize, tokenText } from "../../../core/sql/lexer";
import { SqlError } from "../engine/errors";
import { CREATABLE_MODULES, refusalReason } from "./surface";

export interface ScreenLists {
  /** Functions the engine has that the surface does not allow, lower-case. */
  refusedFunctions: ReadonlySet<string>;
  /** Modules (and pragma tables) no statement may mention, lower-case. */
  unreadableModules: ReadonlySet<string>;
}

interface ScreenToken {
  kind: "word" | "quoted" | "string" | "other";
  /** Upper-case for words, the name for quoted identifiers and strings, else the text. */
  text: string;
}

/** Keywords after which a FROM list's commas no longer separate tables. */
const ENDS_FROM_LIST = new Set([
  "WHERE",
  "GROUP",
  "ORDER",
  "LIMIT",
  "HAVING",
  "WINDOW",
  "UNION",
  "EXCEPT",
  "INTERSECT",
  "RETURNING",
  "SET",
  "DO",
  "VALUES",
  "SELECT",
]);

const OWN_FILE_ONLY = "a DB-Forge database may only use its own file";

export function screenStatement(stmt: StatementInfo, lists: ScreenLists): void {
  const [first, second] = stmt.keywords;
  if (first === "ATTACH") refuse(`ATTACH is disabled (${OWN_FILE_ONLY})`);
  const tokens = screenTokens(stmt.sql);
  if (first === "VACUUM" && tokens.some((t) => t.kind === "word" && t.text === "INTO")) {
    refuse(`VACUUM INTO is disabled (${OWN_FILE_ONLY})`);
  }
  // CREATE VIRTUAL TABLE t USING module(args): the module's name is not a function call.
  let moduleAt = -1;
  if (first === "CREATE" && second === "VIRTUAL") {
    moduleAt = tokens.findIndex((t) => t.kind === "word" && t.text === "USING") + 1;
    const module = tokens[moduleAt];
    if (module && !CREATABLE_MODULES.has(module.text.toLowerCase())) refuseModule(module.text);
  }

  /** The FROM list state of each open parenthesis (index 0: the statement itself). */
  const fromList: boolean[] = [false];
  let tablePosition = false;
  for (const [at, token] of tokens.entries()) {
    const previous = tokens[at - 1];
    const next = tokens[at + 1];
    const name = token.text.toLowerCase();
    if (token.kind === "word" || token.kind === "quoted") {
      if (at !== moduleAt && next?.text === "(" && lists.refusedFunctions.has(name)) {
        throw new SqlError(
          "SQLITE_AUTH",
          `SQLite error: not authorized to use function: ${name} (${refusalReason("function", name)})`,
        );
      }
      if (lists.unreadableModules.has(name)) refuseModule(name);
    } else if (token.kind === "string" && lists.unreadableModules.has(name)) {
      const asName =
        tablePosition || previous?.text === "." || next?.text === "(" || next?.text === ".";
      if (asName) refuseModule(name);
    }

    // Where the next token stands.
    const depth = fromList.length - 1;
    if (token.kind === "word" && token.text === "FROM" && previous?.text !== "DISTINCT") {
      fromList[depth] = true;
      tablePosition = true;
    } else if (token.kind === "word" && token.text === "JOIN") {
      fromList[depth] = true;
      tablePosition = true;
    } else if (token.kind === "word" && (token.text === "INTO" || token.text === "UPDATE")) {
      tablePosition = true;
    } else if (token.kind === "word" && ENDS_FROM_LIST.has(token.text)) {
      fromList[depth] = false;
      tablePosition = false;
    } else if (token.text === ",") {
      tablePosition = fromList[depth] === true;
    } else if (token.text === "(") {
      // `FROM (t1, 't2')`: a parenthesis in a table position opens a nested FROM list.
      fromList.push(tablePosition);
    } else if (token.text === ")") {
      if (fromList.length > 1) fromList.pop();
      tablePosition = false;
    } else if (token.text === ";") {
      // The next statement of a trigger's body.
      fromList.splice(0, fromList.length, false);
      tablePosition = false;
    } else {
      tablePosition = false;
    }
  }
}

/** The statement's tokens without spaces and comments, names unquoted. */
function screenTokens(sql: string): ScreenToken[] {
  const tokens: ScreenToken[] = [];
  for (const token of tokenize(sql)) {
    if (token.kind === "space") continue;
    const raw = sql.slice(token.start, token.end);
    if (token.kind === "word") tokens.push({ kind: "word", text: raw.toUpperCase() });
    else if (token.kind === "quoted") tokens.push({ kind: "quoted", text: tokenText(raw) });
    else if (token.kind === "string") tokens.push({ kind: "string", text: tokenText(raw) });
    else if (token.kind === "semi") tokens.push({ kind: "other", text: ";" });
    else tokens.push({ kind: "other", text: raw });
  }
  return tokens;
}

function refuse(what: string): never {
  throw new SqlError("SQLITE_AUTH", `SQLite error: not authorized: ${what}`);
}

function refuseModule(module: string): never {
  const name = module.toLowerCase();
  refuse(`the virtual table module ${name} is not available (${refusalReason("module", name)})`);
}
