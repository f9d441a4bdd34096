/**
 * dbforge: the DB-Forge command line. Everything but `start` talks to the public API only.
 */
import { parseArgs } from "node:util";
import { CliError } from "./api";
import { auditCommand } from "./commands/audit";
import { backupsCommand, forkCommand, restoreCommand } from "./commands/backups";
import { dbCommand } from "./commands/db";
import { exportCommand } from "./commands/export";
import { importCommand } from "./commands/import";
import { keysCommand } from "./commands/keys";
import { queryCommand } from "./commands/query";
import { shellCommand } from "./commands/shell";
import { startCommand } from "./commands/start";
import { tokensCommand } from "./commands/tokens";
import { usageCommand } from "./commands/usage";
import { resolveConfig } from "./config";

const USAGE = `Usage: dbforge <command> [options]

Commands:
  start                           run DB-Forge here (control plane + API on 127.0.0.1:8787)
  db create <name>                create a database
  db list                         list databases
  db show <name>                  show a database
  db delete <name>                delete a database and its data
  tokens create <db>              mint a token [--read-only] [--expires 30m|12h|7d|never]
  tokens revoke <db>              invalidate every token of the database
  query <db> "SQL"                run SQL and print the results [--params JSON] [--json]
  shell <db>                      interactive SQL shell
  import <db> <file.sql>          run a SQL file, with a progress bar [--quiet]
  import <db> <file.db>           create a database from a SQLite file (checked first)
  export <db> > dump.sql          the database as a SQL dump (schema, rows, indexes, triggers)
                                  [--format sqlite] for a copy of the database file
  backups <db> [create|delete ID] list a database's backups, take one now, delete one
  restore <db> --time T [--as N]  restore to an instant (ISO 8601, Unix ms, 5m/2h/1d ago);
                                  --backup ID for a backup; --as: into a new database
  fork <db> <new> [--time T]      a new database from a snapshot now (or of an instant)
  keys create <name> --role R     create an API key (owner|admin|developer|viewer)
                                  [--databases 'app-*,shop'] (default: every database)
  keys list                       list API keys
  keys revoke <id>                revoke an API key
  usage [<db>]                    usage by hour of one database, or totals of all
                                  [--from T] [--to T] (ISO 8601 or Unix ms)
  audit                           the audit log, newest first
                                  [--database D] [--actor ID] [--from T] [--to T] [--limit N]

Options:
  --url <url>       API URL (env DBFORGE_URL, default http://127.0.0.1:8787)
  --token <token>   API key, admin or database token (env DBFORGE_TOKEN; local installs default to
                    the admin token in db-data/.control-plane/admin-token)
  --json            machine-readable output
  start: --port <port>, --data-dir <dir>, --driver process|docker`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      json: { type: "boolean", default: false },
      "read-only": { type: "boolean", default: false },
      expires: { type: "string" },
      params: { type: "string" },
      quiet: { type: "boolean", default: false },
      port: { type: "string" },
      "data-dir": { type: "string" },
      driver: { type: "string" },
      role: { type: "string" },
      databases: { type: "string" },
      database: { type: "string" },
      actor: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      limit: { type: "string" },
      format: { type: "string" },
      backup: { type: "string" },
      time: { type: "string" },
      as: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  if (command === "start") {
    return startCommand(process.env, {
      ...(values.port ? { port: values.port } : {}),
      ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
      ...(values.driver ? { driver: values.driver } : {}),
    });
  }
  const config = resolveConfig(
    {
      ...(values.url ? { url: values.url } : {}),
      ...(values.token ? { token: values.token } : {}),
    },
    process.env,
  );
  switch (command) {
    case "db":
      return dbCommand(config, args, values.json);
    case "tokens":
      return tokensCommand(config, args, {
        readOnly: values["read-only"],
        json: values.json,
        ...(values.expires ? { expires: values.expires } : {}),
      });
    case "query":
      return queryCommand(config, args, {
        json: values.json,
        ...(values.params ? { params: values.params } : {}),
      });
    case "shell":
      return shellCommand(config, args);
    case "import":
      return importCommand(config, args, { quiet: values.quiet });
    case "backups":
      return backupsCommand(config, args, { json: values.json });
    case "restore":
      return restoreCommand(config, args, {
        json: values.json,
        ...(values.backup ? { backup: values.backup } : {}),
        ...(values.time ? { time: values.time } : {}),
        ...(values.as ? { as: values.as } : {}),
      });
    case "fork":
      return forkCommand(config, args, {
        json: values.json,
        ...(values.time ? { time: values.time } : {}),
      });
    case "export":
      return exportCommand(config, args, values.format ? { format: values.format } : {});
    case "keys":
      return keysCommand(config, args, {
        json: values.json,
        ...(values.role ? { role: values.role } : {}),
        ...(values.databases ? { databases: values.databases } : {}),
      });
    case "usage":
      return usageCommand(config, args, {
        json: values.json,
        ...(values.from ? { from: values.from } : {}),
        ...(values.to ? { to: values.to } : {}),
      });
    case "audit":
      return auditCommand(config, {
        json: values.json,
        ...(values.database ? { database: values.database } : {}),
        ...(values.actor ? { actor: values.actor } : {}),
        ...(values.from ? { from: values.from } : {}),
        ...(values.to ? { to: values.to } : {}),
        ...(values.limit ? { limit: values.limit } : {}),
      });
    default:
      throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof CliError && err.code ? `${err.code}: ` : "";
  console.error(`error: ${code}${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
