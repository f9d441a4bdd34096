import { useEffect, useState } from "hono/jsx";
import type { components } from "../../../client";
import { ErrorBox } from "../components/error-box";
import { Grid } from "../components/grid";
import { humanSize } from "../format";
import { client, failureOf, type Session, unwrap } from "../session";
import { WideChart } from "./usage-chart";

type Usage = components["schemas"]["DatabaseUsage"];

/** One database's usage over the last seven days, by hour. */
export function DatabaseUsage({ session, db }: { session: Session; db: string }) {
  const [usage, setUsage] = useState<Usage | { error: ReturnType<typeof failureOf> } | null>(null);
  useEffect(() => {
    const from = new Date(Date.now() - 7 * 24 * 3_600_000).toISOString();
    unwrap(
      client(session.token).GET("/admin/databases/{name}/usage", {
        params: { path: { name: db }, query: { from } },
      }),
    ).then(setUsage, (err) => setUsage({ error: failureOf(err) }));
  }, [db]);
  if (!usage) return <p class="muted">Loading…</p>;
  if ("error" in usage) return <ErrorBox error={usage.error} />;
  const t = usage.totals;
  return (
    <div class="stack">
      <p id="usage-summary">
        Last 7 days: {t.statements} statements, {t.rowsRead} rows read, {t.rowsWritten} written,{" "}
        {t.errors} errors. Storage {humanSize(usage.storageBytes)} of {humanSize(usage.quotaBytes)}.
      </p>
      <WideChart
        label={`Statements an hour on ${db}`}
        points={usage.hours.map((h) => [Date.parse(h.hour) / 1000, h.statements])}
      />
      <Grid
        caption="By hour"
        columns={["hour", "statements", "rows read", "rows written", "errors"]}
        rows={usage.hours.map((h) => [
          new Date(h.hour).toLocaleString(),
          h.statements,
          h.rowsRead,
          h.rowsWritten,
          h.errors,
        ])}
      />
    </div>
  );
}
