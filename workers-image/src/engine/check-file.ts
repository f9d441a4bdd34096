import { openNative } from "../../../core/sqlite/index";

/** What `checkDatabaseFile` found: the engine's own view of an untrusted file. */
export interface FileCheck {
  ok: boolean;
  /** integrity_check's first complaints (empty when ok), or why the file would not open. */
  problems: string[];
  pageSize: number;
  pageCount: number;
}

/** integrity_check's complaints reported at most (the first few say what is wrong). */
const MAX_PROBLEMS = 10;

/**
 * Opens a database file someone uploaded and runs `PRAGMA integrity_check` on it, with
 * SQLite's own guidance for untrusted files: the schema may call no function or virtual table
 * that is not innocuous (`trusted_schema = OFF`, so readfile() in an index expression or a
 * view cannot run), cells are checked as they are read, no memory mapping, a heap limit.
 * Run in a throwaway process of the database's own user (see `--check-file` in ../main.ts):
 * a file crafted to crash or exhaust the engine takes down only that process.
 */
export function checkDatabaseFile(path: string, heapLimitBytes: number): FileCheck {
  let db: ReturnType<typeof openNative>;
  try {
    db = openNative(path, 0);
  } catch (err) {
    return { ok: false, problems: [String((err as Error).message)], pageSize: 0, pageCount: 0 };
  }
  try {
    db.exec(`PRAGMA hard_heap_limit = ${Math.floor(heapLimitBytes)}`);
    db.exec("PRAGMA trusted_schema = OFF");
    db.exec("PRAGMA cell_size_check = ON");
    db.exec("PRAGMA mmap_size = 0");
    db.exec("PRAGMA query_only = ON");
    const value = (sql: string) => Number(db.prepare(sql).raw(true).get()?.[0] ?? 0);
    const pageSize = value("PRAGMA page_size");
    const pageCount = value("PRAGMA page_count");
    const problems = [
      ...db.prepare(`PRAGMA integrity_check(${MAX_PROBLEMS})`).raw(true).iterate(),
    ].map((row) => String(row[0]));
    const ok = problems.length === 1 && problems[0] === "ok";
    return { ok, problems: ok ? [] : problems, pageSize, pageCount };
  } catch (err) {
    return { ok: false, problems: [String((err as Error).message)], pageSize: 0, pageCount: 0 };
  } finally {
    db.close();
  }
}
