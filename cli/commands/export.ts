import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CliError } from "../api";
import type { CliConfig } from "../config";

/**
 * `dbforge export NAME [--format sql|sqlite] > file`: the database as a SQL dump or as a SQLite
 * file, streamed to stdout.
 */
export async function exportCommand(
  config: CliConfig,
  args: string[],
  flags: { format?: string },
): Promise<void> {
  const [name] = args;
  if (!name) throw new Error("usage: dbforge export <db> [--format sql|sqlite] > file");
  const format = flags.format ?? "sql";
  if (format !== "sql" && format !== "sqlite")
    throw new Error(`--format must be sql or sqlite, not ${format}`);
  const res = await fetch(
    `${config.url.replace(/\/$/, "")}/api/db/${encodeURIComponent(name)}/export?format=${format}`,
    { headers: config.token ? { Authorization: `Bearer ${config.token}` } : {} },
  );
  if (!res.ok || !res.body) {
    const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new CliError(problem.detail ?? `export failed with ${res.status}`, problem.code);
  }
  await pipeline(Readable.fromWeb(res.body as never), process.stdout);
}
