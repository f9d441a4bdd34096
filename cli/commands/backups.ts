import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";

const BACKUPS_USAGE =
  "usage: dbforge backups <db> [list] | dbforge backups <db> create | dbforge backups <db> delete <id>";

/** `dbforge backups <db> [list|create|delete <id>]`. */
export async function backupsCommand(
  config: CliConfig,
  args: string[],
  flags: { json: boolean },
): Promise<void> {
  const [name, action = "list", id] = args;
  if (!name) throw new Error(BACKUPS_USAGE);
  const api = apiClient(config);
  const path = { params: { path: { name } } };
  if (action === "create") {
    const backup = await unwrap(api.POST("/admin/databases/{name}/backups", path));
    if (flags.json) return console.log(JSON.stringify(backup, null, 2));
    console.log(
      `backup ${backup.id} of ${name}: ${backup.sizeBytes} bytes, sha256 ${backup.sha256}`,
    );
    return;
  }
  if (action === "delete" && id) {
    await unwrap(
      api.DELETE("/admin/databases/{name}/backups/{id}", { params: { path: { name, id } } }),
    );
    console.error(`backup ${id} of ${name} is deleted`);
    return;
  }
  if (action !== "list") throw new Error(BACKUPS_USAGE);
  const list = await unwrap(api.GET("/admin/databases/{name}/backups", path));
  if (flags.json) return console.log(JSON.stringify(list, null, 2));
  console.log(
    renderTable(
      ["id", "created", "bytes", "engine", "target", ""],
      list.backups.map((b) => [
        b.id,
        b.createdAt,
        String(b.sizeBytes),
        b.engine,
        b.target,
        b.current ? "current" : "",
      ]),
    ),
  );
  const { intervalS, keep, maxAgeS } = list.schedule;
  console.error(
    `restorable from ${list.restorableFrom ?? "— (no backup yet)"}; a backup every ${intervalS} s, keeping ${keep}, none older than ${maxAgeS} s`,
  );
}

/** `dbforge restore <db> (--backup ID | --time T) [--as NEW]`. */
export async function restoreCommand(
  config: CliConfig,
  args: string[],
  flags: { backup?: string; time?: string; as?: string; json: boolean },
): Promise<void> {
  const [name] = args;
  if (!name || (flags.backup === undefined) === (flags.time === undefined))
    throw new Error("usage: dbforge restore <db> (--backup ID | --time T) [--as NEW]");
  const result = await unwrap(
    apiClient(config).POST("/admin/databases/{name}/restore", {
      params: { path: { name } },
      body: {
        ...(flags.backup ? { backupId: flags.backup } : {}),
        ...(flags.time ? { timestamp: toTimestamp(flags.time) } : {}),
        ...(flags.as ? { as: flags.as } : {}),
      },
    }),
  );
  if (flags.json) return console.log(JSON.stringify(result, null, 2));
  console.log(
    `${result.database.name} restored to ${result.restoredTo} (from backup ${result.backupId})`,
  );
}

/** `dbforge fork <db> <new> [--time T]`. */
export async function forkCommand(
  config: CliConfig,
  args: string[],
  flags: { time?: string; json: boolean },
): Promise<void> {
  const [name, fork] = args;
  if (!name || !fork) throw new Error("usage: dbforge fork <db> <new-name> [--time T]");
  const info = await unwrap(
    apiClient(config).POST("/admin/databases/{name}/fork", {
      params: { path: { name } },
      body: { name: fork, ...(flags.time ? { timestamp: toTimestamp(flags.time) } : {}) },
    }),
  );
  if (flags.json) return console.log(JSON.stringify(info, null, 2));
  console.log(`${info.name} forked from ${name}: ${info.url}`);
}

/** ISO 8601 as given, Unix milliseconds, or "5m"/"2h"/"1d" ago. */
function toTimestamp(text: string): string {
  const ago = /^(\d+)([smhd])$/.exec(text.trim());
  if (ago) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
      ago[2] as "s" | "m" | "h" | "d"
    ];
    return new Date(Date.now() - Number(ago[1]) * unit).toISOString();
  }
  const ms = /^\d{12,}$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms))
    throw new Error(`--time: not an instant: ${text} (ISO 8601, Unix ms or 5m/2h/1d ago)`);
  return new Date(ms).toISOString();
}
