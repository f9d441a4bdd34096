/**
 * libsql-js 0.6.0-pre.41's native build, used directly (its JavaScript wrapper lists platform
 * packages that were never published, which no lock file can install everywhere): per-query
 * timeouts (SQLITE_INTERRUPT) and SQLite's authorizer with action-level rules. Published for
 * Linux x64 (glibc and musl) only: package.json lists those as optional dependencies.
 */
import type {
  AuthorizerConfig,
  Engine,
  NativeColumn,
  NativeDatabase,
  NativeRunResult,
  NativeStatement,
  NativeValue,
} from "./index";
import { isMusl, packageVersion, requireHere } from "./platform";

interface Binding {
  Database: new (
    path: string,
    options: { defaultQueryTimeout: number; timeout: number },
  ) => {
    inTransaction(): boolean;
    interrupt(): void;
    authorizer(config: AuthorizerConfig | null): void;
    defaultSafeIntegers(toggle?: boolean): void;
    close(): void;
  };
  databasePrepareSync(db: unknown, sql: string): RawStatement;
  databaseExecSync(db: unknown, sql: string): void;
  statementRunSync(stmt: RawStatement, params?: NativeValue[]): NativeRunResult;
  statementGetSync(stmt: RawStatement, params?: NativeValue[]): NativeValue[] | undefined;
  statementIterateSync(stmt: RawStatement, params?: NativeValue[]): unknown;
  iteratorNextSync(iterator: unknown): IteratorResult<NativeValue[]>;
}

interface RawStatement {
  raw(toggle?: boolean): void;
  columns(): NativeColumn[];
}

/** The platform package of this machine, if the pre-release published one. */
function platformPackage(): string | undefined {
  if (process.platform === "linux" && process.arch === "x64") {
    return `libsql-linux-x64-${isMusl() ? "musl" : "gnu"}`;
  }
  return undefined;
}

/** Loads the engine; throws when this platform has no build of it (or it does not load). */
export function loadPre(): Engine {
  const name = platformPackage();
  if (!name)
    throw new Error(`libsql 0.6.0-pre.41 has no build for ${process.platform}-${process.arch}`);
  const binding = requireHere(name) as Binding;
  const version = packageVersion(name);
  return {
    name: "pre",
    version,
    interruptsQueries: true,
    authorizes: true,
    open(path, queryTimeoutMs) {
      // busy timeout 0: a locked database must never block the event loop; the worker waits
      // for the write lock asynchronously instead.
      const db = new binding.Database(path, { defaultQueryTimeout: queryTimeoutMs, timeout: 0 });
      return wrapDatabase(binding, db);
    },
  };
}

/**
 * Runs a native call; the binding reports SQLite errors as JSON in the message
 * (`{"libsqlError":true,"code":"SQLITE_…","message":…}`), turned here into an Error with `code`
 * and `rawCode`, the shape the stable binding throws.
 */
function call<T>(native: () => T): T {
  try {
    return native();
  } catch (err) {
    throw fromJsonError(err);
  }
}

function fromJsonError(err: unknown): unknown {
  if (!(err instanceof Error) || !err.message.startsWith("{")) return err;
  try {
    const data = JSON.parse(err.message) as {
      libsqlError?: boolean;
      code?: string;
      rawCode?: number;
      message?: string;
    };
    if (data.libsqlError !== true || typeof data.code !== "string") return err;
    return Object.assign(new Error(data.message ?? data.code), {
      code: data.code,
      rawCode: data.rawCode,
    });
  } catch {
    return err;
  }
}

function wrapDatabase(binding: Binding, db: InstanceType<Binding["Database"]>): NativeDatabase {
  return {
    get inTransaction() {
      return db.inTransaction();
    },
    prepare: (sql) =>
      wrapStatement(
        binding,
        call(() => binding.databasePrepareSync(db, sql)),
        () => db.interrupt(),
      ),
    exec: (sql) => call(() => binding.databaseExecSync(db, sql)),
    authorizer: (config) => db.authorizer(config),
    defaultSafeIntegers: (toggle) => db.defaultSafeIntegers(toggle),
    close: () => db.close(),
  };
}

/**
 * `iterate`'s `return` (a result given up half-way, e.g. RESPONSE_TOO_LARGE) ends the statement
 * by interrupting it, so that it fails and SQLite rolls back what it did: only closing it would
 * reset it, and a reset INSERT … RETURNING in autocommit commits its rows. The stable binding's
 * statements end the same way (./stable.ts).
 */
function wrapStatement(
  binding: Binding,
  stmt: RawStatement,
  interrupt: () => void,
): NativeStatement {
  const statement: NativeStatement = {
    raw(toggle) {
      stmt.raw(toggle);
      return statement;
    },
    columns: () => stmt.columns(),
    run: (params) => call(() => binding.statementRunSync(stmt, params)),
    get: (params) => call(() => binding.statementGetSync(stmt, params)),
    iterate(params) {
      const rows = call(() => binding.statementIterateSync(stmt, params)) as { close?(): void };
      let done = false;
      const iterator = {
        next() {
          // A statement that failed has ended too: stepping it again would run it anew.
          done = true;
          const next = call(() => binding.iteratorNextSync(rows));
          done = next.done === true;
          return next;
        },
        return(value?: unknown) {
          if (!done) {
            done = true;
            interrupt();
            try {
              binding.iteratorNextSync(rows);
            } catch {
              // SQLITE_INTERRUPT: the statement ended
            }
          }
          rows.close?.();
          return { done: true as const, value };
        },
        [Symbol.iterator]() {
          return iterator;
        },
      };
      return iterator as unknown as IterableIterator<NativeValue[]> & { return?(): unknown };
    },
  };
  return statement;
}
