import { readFileSync } from "node:fs";
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
  if (!db || !file) throw new Error("usage: dbforge import <db> <file.sql>");
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
