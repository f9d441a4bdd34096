/**
 * A tokenizer for SQLite's SQL dialect, just precise enough to split a script into statements,
 * find bound parameters and read the leading keywords of a statement. It never rejects input:
 * anything it does not recognise becomes an "other" token and SQLite itself reports the error.
 */

export type TokenKind =
  | "space" // whitespace and comments
  | "word" // identifier or keyword (unquoted)
  | "quoted" // "ident", `ident`, [ident]
  | "string" // 'text' or x'blob'
  | "param" // ?, ?NNN, :name, @name, $name, #name
  | "semi"
  | "other";

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
/** SQLite treats every non-ASCII character as an identifier character. */
const isIdStart = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isIdPart = (c: number) => isIdStart(c) || isDigit(c) || c === 36;

/** Index just past the closing `quote`, honouring doubled quotes; the end of input if unclosed. */
function skipQuoted(sql: string, from: number, quote: number): number {
  let i = from + 1;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

function scanToken(sql: string, i: number): { kind: TokenKind; end: number } {
  const c = sql.charCodeAt(i);
  const next = sql.charCodeAt(i + 1);
  if (isSpace(c)) {
    let j = i + 1;
    while (j < sql.length && isSpace(sql.charCodeAt(j))) j++;
    return { kind: "space", end: j };
  }
  if (c === 45 /* - */ && next === 45) {
    const nl = sql.indexOf("\n", i + 2);
    return { kind: "space", end: nl < 0 ? sql.length : nl + 1 };
  }
  if (c === 47 /* / */ && next === 42 /* * */) {
    const close = sql.indexOf("*/", i + 2);
    return { kind: "space", end: close < 0 ? sql.length : close + 2 };
  }
  if (c === 39 /* ' */) return { kind: "string", end: skipQuoted(sql, i, 39) };
  if (c === 34 /* " */ || c === 96 /* ` */) return { kind: "quoted", end: skipQuoted(sql, i, c) };
  if (c === 91 /* [ */) {
    const close = sql.indexOf("]", i + 1);
    return { kind: "quoted", end: close < 0 ? sql.length : close + 1 };
  }
  if (c === 59 /* ; */) return { kind: "semi", end: i + 1 };
  if ((c === 120 || c === 88) /* x X */ && next === 39) {
    return { kind: "string", end: skipQuoted(sql, i + 1, 39) };
  }
  if (c === 63 /* ? */) {
    let j = i + 1;
    while (j < sql.length && isDigit(sql.charCodeAt(j))) j++;
    return { kind: "param", end: j };
  }
  if (c === 58 /* : */ || c === 64 /* @ */ || c === 36 /* $ */ || c === 35 /* # */) {
    let j = i + 1;
    while (j < sql.length && isIdPart(sql.charCodeAt(j))) j++;
    if (c === 36) j = skipTclSuffix(sql, j);
    if (j > i + 1) return { kind: "param", end: j };
    return { kind: "other", end: i + 1 };
  }
  if (isIdStart(c)) {
    let j = i + 1;
    while (j < sql.length && isIdPart(sql.charCodeAt(j))) j++;
    return { kind: "word", end: j };
  }
  if (isDigit(c) || (c === 46 /* . */ && isDigit(next))) {
    let j = i + 1;
    while (j < sql.length && (isIdPart(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46)) j++;
    return { kind: "other", end: j };
  }
  return { kind: "other", end: i + 1 };
}

/** `$name::part(arg)`: SQLite's TCL-style variable names may continue with `::x` and `(...)`. */
function skipTclSuffix(sql: string, from: number): number {
  let j = from;
  for (;;) {
    if (sql.startsWith("::", j)) {
      j += 2;
      while (j < sql.length && isIdPart(sql.charCodeAt(j))) j++;
    } else if (sql.charCodeAt(j) === 40 /* ( */) {
      const close = sql.indexOf(")", j);
      return close < 0 ? j : close + 1;
    } else {
      return j;
    }
  }
}

export function* tokenize(sql: string): Generator<Token> {
  let i = 0;
  while (i < sql.length) {
    const { kind, end } = scanToken(sql, i);
    yield { kind, start: i, end };
    i = end;
  }
}

/**
 * The name a "quoted" or "string" token stands for: quotes removed and doubled quotes undone
 * (`"a""b"` is `a"b`, `[x]` is `x`); any other token's text unchanged. SQLite takes a 'string'
 * as a name where the grammar wants one (`FROM 'tbl'`, `PRAGMA 'name'`).
 */
export function tokenText(text: string): string {
  const open = text[0];
  const close = open === "[" ? "]" : open;
  if (text.length < 2 || text[text.length - 1] !== close) return text;
  const inner = text.slice(1, -1);
  if (open === "[") return inner;
  if (open === "'" || open === '"' || open === "`") return inner.replaceAll(`${open}${open}`, open);
  return text;
}
