/**
 * libsql-js 0.5.29 (npm alias `libsql-stable`), published for every platform DB-Forge
 * supports. Its binding has neither per-query timeouts nor an action-level authorizer: the
 * worker ends runaway statements with a watchdog, and its statement screen (which runs on
 * both engines) is the sandbox's only SQL layer (see README "Supported platforms").
 */
import type { Engine, NativeDatabase } from "./index";
import { packageVersion, requireHere } from "./platform";

type StableDatabase = new (
  path: string,
  options: { timeout: number },
) => Omit<NativeDatabase, "authorizer"> & { authorizer(rules: unknown): void };

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
        prepare: (sql) => db.prepare(sql),
        exec: (sql) => db.exec(sql),
        authorizer: () => {},
        defaultSafeIntegers: (toggle) => db.defaultSafeIntegers(toggle),
        close: () => db.close(),
      };
    },
  };
}
