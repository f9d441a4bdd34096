import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";

/** `dbforge audit [--database D] [--actor A] [--from T] [--to T] [--limit N]`, newest first. */
export async function auditCommand(
  config: CliConfig,
  flags: {
    database?: string;
    actor?: string;
    from?: string;
    to?: string;
    limit?: string;
    json: boolean;
  },
): Promise<void> {
  const query = Object.fromEntries(
    (["database", "actor", "from", "to", "limit"] as const)
      .filter((k) => flags[k] !== undefined)
      .map((k) => [k, flags[k] as string]),
  );
  const page = await unwrap(apiClient(config).GET("/admin/audit", { params: { query } }));
  if (flags.json) return console.log(JSON.stringify(page, null, 2));
  console.log(
    renderTable(
      ["at", "actor", "action", "database", "outcome", "client"],
      page.entries.map((e) => [e.at, e.actor, e.action, e.database ?? "", e.outcome, e.client]),
    ),
  );
  if (page.nextCursor) console.error(`older entries: the API's ?cursor=${page.nextCursor}`);
}
