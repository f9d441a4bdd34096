/**
 * A worker's Database opened in this process, on the suite's engine, for tests of the engine
 * layer and the Hrana streams above it.
 */
import { join } from "node:path";
import { Database, type DatabaseOptions } from "../workers-image/src/engine/database";
import { testEngine } from "./engine";
import { makeTempDir, removeDir } from "./temp";

export interface TestDatabase {
  db: Database;
  /** The database file. */
  file: string;
  /** Closes the database and removes its directory. */
  close(): void;
}

export function openTestDatabase(
  purpose: string,
  options: Partial<Omit<DatabaseOptions, "path">> = {},
): TestDatabase {
  testEngine();
  const dir = makeTempDir(purpose);
  const file = join(dir, "data");
  const db = Database.open({
    path: file,
    queryTimeoutMs: 5000,
    lockWaitTimeoutMs: 1000,
    transactionTimeoutMs: 5000,
    synchronous: "NORMAL",
    poolSize: 2,
    maxConnections: 8,
    ...options,
  });
  return {
    db,
    file,
    close() {
      db.close();
      removeDir(dir);
    },
  };
}
