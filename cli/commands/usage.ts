import { apiClient, unwrap } from "../api";
import type { CliConfig } from "../config";
import { renderTable } from "../format";

/** `dbforge usage [NAME] [--from T] [--to T]`: hourly usage of one database, or totals of all. */
export async function usageCommand(
  config: CliConfig,
  args: string[],
  flags: { from?: string; to?: string; json: boolean },
): Promise<void> {
  const [name] = args;
  const query = {
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
  };
  const api = apiClient(config);
  if (name) {
    const usage = await unwrap(
      api.GET("/admin/databases/{name}/usage", { params: { path: { name }, query } }),
    );
    if (flags.json) return console.log(JSON.stringify(usage, null, 2));
    console.log(
      renderTable(
        ["hour", "statements", "rows read", "rows written", "errors"],
        usage.hours.map((h) => [h.hour, h.statements, h.rowsRead, h.rowsWritten, h.errors]),
      ),
    );
    const t = usage.totals;
    console.log(
      `${name}, ${usage.from} to ${usage.to}: ${t.statements} statements, ${t.rowsRead} rows read, ${t.rowsWritten} written, ${t.errors} errors; storage ${usage.storageBytes} of ${usage.quotaBytes} bytes`,
    );
    return;
  }
  const summary = await unwrap(api.GET("/admin/usage", { params: { query } }));
  if (flags.json) return console.log(JSON.stringify(summary, null, 2));
  console.log(
    renderTable(
      ["database", "statements", "rows read", "rows written", "errors", "storage bytes"],
      summary.databases.map((d) => [
        d.database,
        d.statements,
        d.rowsRead,
        d.rowsWritten,
        d.errors,
        d.storageBytes,
      ]),
    ),
  );
  const t = summary.totals;
  console.log(
    `total, ${summary.from} to ${summary.to}: ${t.statements} statements, ${t.rowsRead} rows read, ${t.rowsWritten} written, ${t.errors} errors; storage ${t.storageBytes} bytes`,
  );
}
