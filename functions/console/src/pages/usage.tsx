import { useEffect, useState } from "hono/jsx";
import type { components } from "../../../client";
import { ErrorBox } from "../components/error-box";
import { Grid } from "../components/grid";
import { humanSize } from "../format";
import { client, failureOf, type Session, unwrap } from "../session";

type Summary = components["schemas"]["UsageSummary"];

const WINDOWS = [
  ["1", "Last 24 hours"],
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
] as const;

/** Usage of every database the key may see, with the totals. */
export function UsagePage({ session }: { session: Session }) {
  const [days, setDays] = useState("1");
  const [summary, setSummary] = useState<Summary | { error: ReturnType<typeof failureOf> } | null>(
    null,
  );
  useEffect(() => {
    setSummary(null);
    const from = new Date(Date.now() - Number(days) * 24 * 3_600_000).toISOString();
    unwrap(client(session.token).GET("/admin/usage", { params: { query: { from } } })).then(
      setSummary,
      (err) => setSummary({ error: failureOf(err) }),
    );
  }, [days]);
  return (
    <>
      <h1>Usage</h1>
      <div class="row">
        <label for="usage-window">Period</label>
        <select
          id="usage-window"
          onChange={(e: Event) => setDays((e.target as HTMLSelectElement).value)}
        >
          {WINDOWS.map(([v, label]) => (
            <option value={v} selected={v === days}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {!summary ? (
        <p class="muted">Loading…</p>
      ) : "error" in summary ? (
        <ErrorBox error={summary.error} />
      ) : (
        <>
          <p id="usage-totals">
            {summary.totals.statements} statements, {summary.totals.rowsRead} rows read,{" "}
            {summary.totals.rowsWritten} written, {summary.totals.errors} errors; storage{" "}
            {humanSize(summary.totals.storageBytes)}.
          </p>
          <Grid
            caption="By database"
            columns={["database", "statements", "rows read", "rows written", "errors", "storage"]}
            rows={summary.databases.map((d) => [
              d.database,
              d.statements,
              d.rowsRead,
              d.rowsWritten,
              d.errors,
              humanSize(d.storageBytes),
            ])}
          />
        </>
      )}
    </>
  );
}
