import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from "node:fs";
import { Readable } from "node:stream";
import { analyzeSql, isTransactionControl } from "../../core/sql/analyze";
import { apiClient, CliError, unwrap } from "../api";
import type { CliConfig } from "../config";
import { ProgressBar } from "../format";

/** Statements per request; each chunk runs in one transaction. */
const CHUNK = 500;

/**
 * Imports a .sql file: its statements run in order, in chunks of 500, each chunk atomically.
 * On an error the import stops; chunks before it are committed (the output says how far it got).
 */
export async function importCommand(
  config: CliConfig,
  args: string[],
  flags: { quiet: boolean },
): Promise<void> {
  const [db, file] = args;
  if (!db || !file) throw new Error("usage: dbforge import <db> <file.sql|file.db>");
  if (isSqliteFile(file)) return importDatabaseFile(config, db, file, flags);
  // Chunks bring their own transactions.
  const statements = analyzeSql(readFileSync(file, "utf8")).filter((s) => !isTransactionControl(s));
  const api = apiClient(config);
  const progress = flags.quiet ? undefined : new ProgressBar(statements.length, "statements");
  progress?.update(0);
  for (let start = 0; start < statements.length; start += CHUNK) {
    const chunk = statements.slice(start, start + CHUNK);
    try {
      await unwrap(
        api.POST("/api/db/{name}/batch", {
          params: { path: { name: db } },
          body: { statements: chunk.map((s) => ({ sql: s.sql })), mode: "write" },
        }),
      );
    } catch (err) {
      progress?.finish();
      const code = err instanceof CliError ? err.code : undefined;
      throw new CliError(
        `import stopped in statements ${start + 1}-${start + chunk.length} (nothing of that chunk was applied; ${start} statements before it were): ${(err as Error).message}`,
        code,
      );
    }
    progress?.update(start + chunk.length);
  }
  progress?.finish();
  console.log(`imported ${statements.length} statements into ${db}`);
}

/** Whether `file` starts with SQLite's header (a database file, not a dump). */
function isSqliteFile(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    return head.toString("latin1") === "SQLite format 3\0";
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates database `db` from a SQLite file, streamed to the server with a progress bar of the
 * bytes sent. The server checks the file (integrity_check, the quota) before the database
 * exists: a refused file creates nothing.
 */
async function importDatabaseFile(
  config: CliConfig,
  db: string,
  file: string,
  flags: { quiet: boolean },
): Promise<void> {
  const size = statSync(file).size;
  const progress = flags.quiet ? undefined : new ProgressBar(size, "bytes");
  let sent = 0;
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  source.on("data", (chunk) => {
    sent += chunk.length;
    progress?.update(sent);
  });
  const res = await fetch(
    `${config.url.replace(/\/$/, "")}/admin/databases/${encodeURIComponent(db)}/import`,
    {
      method: "POST",
      headers: {
        "Content-Type": "application/vnd.sqlite3",
        "Content-Length": String(size),
        ...(config.token ? { Authorization: `Bearer ${config.token}` } : {}),
      },
      body: Readable.toWeb(source) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit,
  );
  progress?.finish();
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new CliError(problem.detail ?? `import failed with ${res.status}`, problem.code);
  }
  console.log(`created ${db} from ${file} (${size} bytes)`);
}
