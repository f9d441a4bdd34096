import { tokenize } from "./lexer";

/** The bound parameters of one statement, numbered the way SQLite numbers them. */
export interface ParamInfo {
  /** Highest parameter index: SQLite's sqlite3_bind_parameter_count. */
  count: number;
  /** Names of named parameters (with their prefix, e.g. ":id") by 1-based index. */
  names: Map<number, string>;
}

export interface StatementInfo {
  /** The statement text without its terminating semicolon. */
  sql: string;
  /** The first keywords (unquoted words), upper-cased; enough to classify the statement. */
  keywords: string[];
  params: ParamInfo;
}

/** Enough for `EXPLAIN QUERY PLAN CREATE TEMP TRIGGER`. */
const LEADING_KEYWORDS = 6;

/**
 * Splits SQL into statements and describes each. Semicolons inside strings, identifiers,
 * comments and `CREATE TRIGGER ... BEGIN ... END` bodies do not split.
 */
export function analyzeSql(sql: string): StatementInfo[] {
  const statements: StatementInfo[] = [];
  let current: Builder | undefined;
  for (const token of tokenize(sql)) {
    if (token.kind === "space") continue;
    const text = sql.slice(token.start, token.end);
    if (token.kind === "semi") {
      if (current && !current.continuesAfterSemicolon()) {
        statements.push(current.finish(sql));
        current = undefined;
      }
      continue;
    }
    current ??= new Builder(token.start);
    current.add(token.kind, text, token.end);
  }
  if (current) statements.push(current.finish(sql));
  return statements;
}

class Builder {
  keywords: string[] = [];
  params: ParamInfo = { count: 0, names: new Map() };
  lastEnd: number;
  private namedIndex = new Map<string, number>();
  private isTrigger = false;
  private caseDepth = 0;
  private lastWord = "";

  constructor(readonly start: number) {
    this.lastEnd = start;
  }

  add(kind: string, text: string, end: number): void {
    this.lastEnd = end;
    this.lastWord = "";
    if (kind === "word") {
      const word = text.toUpperCase();
      this.lastWord = word;
      if (this.keywords.length < LEADING_KEYWORDS) {
        this.keywords.push(word);
        this.isTrigger ||= isCreateTrigger(this.keywords);
      }
      if (word === "CASE") this.caseDepth++;
      else if (word === "END" && this.caseDepth > 0) {
        this.caseDepth--;
        this.lastWord = "END_CASE";
      }
    } else if (kind === "param") {
      this.addParam(text);
    }
  }

  /** Inside a trigger body a semicolon ends the statement only right after the body's END. */
  continuesAfterSemicolon(): boolean {
    return this.isTrigger && this.lastWord !== "END";
  }

  finish(sql: string): StatementInfo {
    return {
      sql: sql.slice(this.start, this.lastEnd),
      keywords: this.keywords,
      params: this.params,
    };
  }

  private addParam(text: string): void {
    if (text.startsWith("?")) {
      // `?NNN` takes index NNN; a bare `?` takes the next index after the largest so far.
      const index = text.length > 1 ? Number(text.slice(1)) : this.params.count + 1;
      this.params.count = Math.max(this.params.count, index);
      return;
    }
    if (this.namedIndex.has(text)) return;
    const index = this.params.count + 1;
    this.namedIndex.set(text, index);
    this.params.names.set(index, text);
    this.params.count = index;
  }
}

function isCreateTrigger(keywords: string[]): boolean {
  let i = 0;
  if (keywords[i] === "EXPLAIN") i++;
  if (keywords[i] === "QUERY") i += 2;
  if (keywords[i] !== "CREATE") return false;
  i++;
  if (keywords[i] === "TEMP" || keywords[i] === "TEMPORARY") i++;
  return keywords[i] === "TRIGGER";
}

/**
 * Whether `sql` ends with a complete statement (a terminating semicolon outside any string,
 * comment or trigger body): what an interactive shell waits for before running input.
 */
export function endsWithCompleteStatement(sql: string): boolean {
  let current: Builder | undefined;
  let complete = false;
  for (const token of tokenize(sql)) {
    if (token.kind === "space") continue;
    if (token.kind === "semi") {
      if (current && !current.continuesAfterSemicolon()) {
        current = undefined;
        complete = true;
      }
      continue;
    }
    current ??= new Builder(token.start);
    current.add(token.kind, sql.slice(token.start, token.end), token.end);
    complete = false;
  }
  return complete && current === undefined;
}

/**
 * BEGIN, COMMIT, END and ROLLBACK: what a dump wraps itself in (sqlite3 .dump), left out by
 * importers that run it in transactions of their own.
 */
const TRANSACTION_CONTROL = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK"]);

export const isTransactionControl = (stmt: StatementInfo): boolean =>
  TRANSACTION_CONTROL.has(stmt.keywords[0] ?? "");

/** EXPLAIN and EXPLAIN QUERY PLAN statements. */
export const isExplain = (stmt: StatementInfo): boolean => stmt.keywords[0] === "EXPLAIN";

/** Statements that can never change rows, so their affected-row count is 0 without asking. */
export const isPureQuery = (stmt: StatementInfo): boolean => {
  const first = stmt.keywords[0];
  return first === "SELECT" || first === "VALUES" || first === "EXPLAIN";
};

/**
 * Statements that leave state on the connection beyond the transaction (pragmas, temp schema),
 * so the connection must not be handed to another stream afterwards.
 */
export const leavesConnectionState = (stmt: StatementInfo): boolean => {
  const [first, second] = stmt.keywords;
  if (first === "PRAGMA") return /[=(]/.test(stmt.sql);
  return first === "CREATE" && (second === "TEMP" || second === "TEMPORARY");
};

const ANALYSIS_CACHE_SIZE = 1000;
/**
 * Longer texts are analyzed each time: bulk INSERTs with their values inlined are rarely sent
 * twice, and a thousand of them held a worker's whole heap (it ran out and crashed). 1,000
 * entries of at most 4 KiB stay within a few MiB.
 */
const ANALYSIS_CACHE_MAX_SQL = 4 * 1024;
const analysisCache = new Map<string, StatementInfo[]>();

/** analyzeSql, memoized: clients send the same statements over and over. */
export function analyzeSqlCached(sql: string): StatementInfo[] {
  const cached = analysisCache.get(sql);
  if (cached) return cached;
  const analysis = analyzeSql(sql);
  if (sql.length > ANALYSIS_CACHE_MAX_SQL) return analysis;
  analysisCache.set(sql, analysis);
  if (analysisCache.size > ANALYSIS_CACHE_SIZE) {
    const oldest = analysisCache.keys().next().value;
    if (oldest !== undefined) analysisCache.delete(oldest);
  }
  return analysis;
}
