import { createInterface } from "node:readline";
import { endsWithCompleteStatement } from "../../core/sql/analyze";
import { apiClient, CliError, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";
import { runSql } from "./query";

const HELP = `Enter SQL terminated by ";" (it may span lines). Commands:
  .tables           list tables
  .schema [table]   show CREATE statements
  .help             this help
  .quit             leave (or Ctrl-D)`;

/** An interactive SQL shell on one database. */
export async function shellCommand(config: CliConfig, args: string[]): Promise<void> {
  const [db] = args;
  if (!db) throw new Error("usage: dbforge shell <db>");
  // Fail early (unknown database, bad token) instead of at the first statement.
  await unwrap(
    apiClient(config).POST("/api/db/{name}/query", {
      params: { path: { name: db } },
      body: { sql: "SELECT 1" },
    }),
  );
  const interactive = Boolean(process.stdin.isTTY);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: interactive,
  });
  if (interactive) console.log(`Connected to ${db} at ${config.url}. .help for help.`);
  const prompt = (continuation: boolean) => {
    rl.setPrompt(continuation ? "   ...> " : `${db}> `);
    if (interactive) rl.prompt();
  };
  let buffer = "";
  prompt(false);
  for await (const line of rl) {
    const trimmed = line.trim();
    if (buffer === "" && trimmed.startsWith(".")) {
      const [command, arg] = trimmed.split(/\s+/);
      if (command === ".quit" || command === ".exit") break;
      try {
        await dotCommand(config, db, command ?? "", arg);
      } catch (err) {
        report(err);
      }
      prompt(false);
      continue;
    }
    buffer += `${line}\n`;
    if (!endsWithCompleteStatement(buffer)) {
      prompt(buffer.trim() !== "");
      continue;
    }
    try {
      await runSql(config, db, buffer, { json: false });
    } catch (err) {
      report(err);
    }
    buffer = "";
    prompt(false);
  }
  rl.close();
}

async function dotCommand(
  config: CliConfig,
  db: string,
  command: string,
  arg: string | undefined,
): Promise<void> {
  const api = apiClient(config);
  switch (command) {
    case ".help":
      console.log(HELP);
      return;
    case ".tables": {
      const { tables } = await unwrap(
        api.GET("/api/db/{name}/tables", { params: { path: { name: db } } }),
      );
      console.log(tables.length ? tables.map((t) => t.name).join("\n") : "(no tables)");
      return;
    }
    case ".schema": {
      const result = await unwrap(
        api.POST("/api/db/{name}/query", {
          params: { path: { name: db } },
          body: {
            sql: "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND (?1 IS NULL OR tbl_name = ?1) ORDER BY rowid",
            params: [arg ?? null],
            rowMode: "array",
          },
        }),
      );
      console.log((result.rows as unknown[][]).map((r) => `${r[0]};`).join("\n") || "(nothing)");
      return;
    }
    default:
      console.log(renderTable(["unknown command"], [[command]]));
      console.log(HELP);
  }
}

function report(err: unknown): void {
  const code = err instanceof CliError && err.code ? `${err.code}: ` : "";
  console.log(`error: ${code}${(err as Error).message}`);
}
