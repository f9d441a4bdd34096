/**
 * SQLite through libSQL's Node binding (libsql-js), typed precisely for what DB-Forge uses:
 * the worker's engine and the control plane's registry. The packages' own typings are `any`
 * almost everywhere.
 */
import { loadPre } from "./pre";
import { loadStable } from "./stable";

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
  /** The first row only (undefined: none); much cheaper than iterate on both bindings. */
  get(params?: NativeValue[]): NativeValue[] | undefined;
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
  /** Only where the engine `authorizes`; elsewhere a no-op. */
  authorizer(config: AuthorizerConfig | null): void;
  defaultSafeIntegers(toggle?: boolean): void;
  close(): void;
}

/** SQLite's authorizer answers (sqlite3.h). */
export const Authorization = { ALLOW: 0, DENY: 1, IGNORE: 2 } as const;

/** SQLite's authorizer action codes (sqlite3.h) the sandbox uses. */
export const Action = {
  DELETE: 9,
  INSERT: 18,
  PRAGMA: 19,
  READ: 20,
  UPDATE: 23,
  ATTACH: 24,
  CREATE_VTABLE: 29,
  FUNCTION: 31,
} as const;

export type EngineName = "pre" | "stable";
export type EngineChoice = EngineName | "auto";

/**
 * One build of libSQL's Node binding. Two stand behind this interface (see ./pre.ts and
 * ./stable.ts); they differ in what SQLite features the binding exposes, and DB-Forge keeps its
 * guarantees on both (see README "Supported platforms").
 */
export interface Engine {
  readonly name: EngineName;
  /** The binding's version, for /version. */
  readonly version: string;
  /** Statements end at the query timeout with SQLITE_INTERRUPT (else a watchdog restarts). */
  readonly interruptsQueries: boolean;
  /** SQLite's authorizer with action-level rules (the sandbox's second layer). */
  readonly authorizes: boolean;
  open(path: string, queryTimeoutMs: number): NativeDatabase;
}

let selected: Engine | undefined;

const LOADERS: Record<EngineName, { describe: string; load: () => Engine }> = {
  pre: { describe: "libsql 0.6.0-pre.41", load: loadPre },
  stable: { describe: "libsql 0.5.29 (libsql-stable)", load: loadStable },
};

/** Loads one engine, or says clearly why it cannot load on this machine. */
function load(name: EngineName): Engine {
  try {
    return LOADERS[name].load();
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new Error(
      `DBFORGE_ENGINE=${name}: ${LOADERS[name].describe} cannot load here (${process.platform}-${process.arch}): ${reason}`,
    );
  }
}

/**
 * Chooses the engine once per process, from the configuration (DBFORGE_ENGINE): "pre" or
 * "stable" as asked (failing clearly if it does not load), "auto" the pre-release where its
 * native build loads here, else the stable one.
 */
export function selectEngine(choice: EngineChoice): Engine {
  if (selected && (choice === "auto" || choice === selected.name)) return selected;
  if (choice !== "auto") selected = load(choice);
  else {
    try {
      selected = load("pre");
    } catch {
      selected = load("stable");
    }
  }
  return selected;
}

/** The engine in use (the automatic choice when no one chose). */
export function engine(): Engine {
  return selected ?? selectEngine("auto");
}

export function openNative(path: string, queryTimeoutMs: number): NativeDatabase {
  const db = engine().open(path, queryTimeoutMs);
  // 64-bit integers come back as bigint and REALs as number, so the two stay distinct.
  db.defaultSafeIntegers(true);
  return db;
}
