/**
 * libsql-js 0.5.29 (npm alias `libsql-stable`), published for every platform DB-Forge
 * supports. Its binding has neither per-query timeouts nor an action-level authorizer: the
 * worker ends runaway statements with a watchdog, and its statement screen (which runs on
 * both engines) is the sandbox's only SQL layer (see README "Supported platforms").
 */
import type { Engine, NativeDatabase, NativeStatement, NativeValue } from "./index";
import { packageVersion, requireHere } from "./platform";

type StableDatabase = new (
  path: string,
  options: { timeout: number },
) => Omit<NativeDatabase, "authorizer"> & { authorizer(rules: unknown): void; interrupt(): void };

/**
 * The binding's statement, mended where libsql-js 0.5.29 misbehaves. Its row iterator cannot be
 * ended early: a statement left half-way keeps its connection on its snapshot, or (INSERT …
 * RETURNING) keeps the write lock; `return` ends it as SQLite would: interrupt the connection
 * and step once more, so the statement halts (rolled back) and the interrupt is spent. And the
 * first `get` after an `iterate` answers with that iteration's row (a test in
 * workers-image/src/engine/single-row.test.ts runs into both).
 */
/** How many rows the binding's iterator fetches at a time (libsql-js 0.5: 100). */
const PREFETCHED_ROWS = 100;

function endableStatement(statement: NativeStatement, interrupt: () => void): NativeStatement {
  const iterate = statement.iterate.bind(statement);
  const get = statement.get.bind(statement);
  /** The binding's first `get` after an `iterate` returns that iteration's row: spend it. */
  let iterated = false;
  const wrapped: NativeStatement = Object.assign(Object.create(statement) as NativeStatement, {
    raw(toggle?: boolean) {
      statement.raw(toggle);
      return wrapped;
    },
    get(params?: NativeValue[]) {
      if (iterated) {
        iterated = false;
        get(params);
      }
      return get(params);
    },
    iterate(params?: NativeValue[]) {
      iterated = true;
      const rows = iterate(params);
      let done = false;
      const iterator = {
        next() {
          // A statement that failed has ended too: stepping it again would run it anew.
          done = true;
          const next = rows.next();
          done = next.done === true;
          return next;
        },
        return(value?: unknown) {
          if (!done) {
            done = true;
            interrupt();
            try {
              // The binding hands out rows it fetched ahead (up to 100) before it steps again.
              for (let i = 0; i <= PREFETCHED_ROWS && !rows.next().done; i++);
            } catch {
              // SQLITE_INTERRUPT: the statement ended
            }
          }
          return { done: true as const, value };
        },
        [Symbol.iterator]() {
          return iterator;
        },
      };
      return iterator as unknown as ReturnType<NativeStatement["iterate"]>;
    },
  });
  return wrapped;
}

export function loadStable(): Engine {
  const Database = requireHere("libsql-stable") as StableDatabase;
  const version = packageVersion("libsql-stable");
  return {
    name: "stable",
    version,
    interruptsQueries: false,
    authorizes: false,
    open(path) {
      // busy timeout 0, as on the other engine.
      const db = new Database(path, { timeout: 0 });
      return {
        get inTransaction() {
          return db.inTransaction;
        },
        prepare: (sql) => endableStatement(db.prepare(sql), () => db.interrupt()),
        exec: (sql) => db.exec(sql),
        authorizer: () => {},
        defaultSafeIntegers: (toggle) => db.defaultSafeIntegers(toggle),
        close: () => db.close(),
      };
    },
  };
}
