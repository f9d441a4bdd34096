/**
 * The subset of the `libsql` binding (libsql-js, better-sqlite3 compatible) the engine uses,
 * typed precisely. The package's own typings are `any` almost everywhere.
 */
import libsql from "libsql";

export type NativeValue = null | bigint | number | string | Buffer;

export interface NativeColumn {
  name: string;
  type: string | null;
}

export interface NativeRunResult {
  changes: number;
  /** The binding converts the rowid to a double: exact only up to 2^53. */
  lastInsertRowid: number;
}

export interface NativeStatement {
  raw(toggle?: boolean): NativeStatement;
  columns(): NativeColumn[];
  run(params?: NativeValue[]): NativeRunResult;
  iterate(params?: NativeValue[]): IterableIterator<NativeValue[]> & { return?(): unknown };
}

/** An exact name, or a glob (`*`, `?`, `[abc]`, `{a,b}`), matched case-sensitively. */
export type NamePattern = string | { glob: string };

/**
 * One rule of the binding's authorizer; the first rule that matches an action decides. `entity`
 * is the function, pragma, module (CREATE/DROP VTABLE), index, trigger or view name; `table`
 * the table an action reads or writes.
 */
export interface AuthorizerRule {
  action: number | number[];
  table?: NamePattern;
  entity?: NamePattern;
  policy: number;
}

export interface AuthorizerConfig {
  rules: AuthorizerRule[];
  defaultPolicy: number;
}

export interface NativeDatabase {
  readonly inTransaction: boolean;
  prepare(sql: string): NativeStatement;
  exec(sql: string): void;
  authorizer(config: AuthorizerConfig | null): void;
  defaultSafeIntegers(toggle?: boolean): void;
  close(): void;
}

interface NativeModule {
  new (path: string, options?: { defaultQueryTimeout?: number; timeout?: number }): NativeDatabase;
  Authorization: { ALLOW: number; DENY: number };
  Action: Record<
    "ATTACH" | "FUNCTION" | "PRAGMA" | "CREATE_VTABLE" | "READ" | "INSERT" | "UPDATE" | "DELETE",
    number
  >;
}

const native = libsql as unknown as NativeModule;

export const { Authorization, Action } = native;

export function openNative(path: string, queryTimeoutMs: number): NativeDatabase {
  // busy timeout 0: a locked database must never block the event loop; the engine waits
  // for the write lock asynchronously instead (see WriteLockWaiter).
  const db = new native(path, { defaultQueryTimeout: queryTimeoutMs, timeout: 0 });
  // 64-bit integers come back as bigint and REALs as number, so the two stay distinct.
  db.defaultSafeIntegers(true);
  return db;
}
