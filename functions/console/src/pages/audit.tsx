import { useEffect, useState } from "hono/jsx";
import type { components } from "../../../client";
import { ErrorBox } from "../components/error-box";
import { Grid } from "../components/grid";
import { client, failureOf, storedToken, unwrap } from "../session";

type Entry = components["schemas"]["AuditEntry"];

/** The audit log, newest first, filtered by database or actor, a page at a time. */
export function AuditPage() {
  const [filter, setFilter] = useState<{ database?: string; actor?: string }>({});
  const [entries, setEntries] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ReturnType<typeof failureOf> | null>(null);

  const load = async (more: boolean) => {
    try {
      const page = await unwrap(
        client(storedToken() ?? "").GET("/admin/audit", {
          params: {
            query: {
              limit: "50",
              ...(filter.database ? { database: filter.database } : {}),
              ...(filter.actor ? { actor: filter.actor } : {}),
              ...(more && cursor ? { cursor } : {}),
            },
          },
        }),
      );
      setEntries(more ? [...entries, ...page.entries] : page.entries);
      setCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(failureOf(err));
    }
  };
  useEffect(() => {
    void load(false);
  }, [filter.database, filter.actor]);

  return (
    <>
      <h1>Audit log</h1>
      <form
        class="row"
        onSubmit={(e: Event) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const value = (n: string) =>
            (form.elements.namedItem(n) as HTMLInputElement).value.trim();
          setFilter({
            ...(value("database") ? { database: value("database") } : {}),
            ...(value("actor") ? { actor: value("actor") } : {}),
          });
        }}
      >
        <label for="audit-database">Database</label>
        <input id="audit-database" name="database" autocomplete="off" class="short" />
        <label for="audit-actor">Actor</label>
        <input
          id="audit-actor"
          name="actor"
          autocomplete="off"
          class="short"
          placeholder="key id or admin"
        />
        <button type="submit">Filter</button>
      </form>
      {error ? <ErrorBox error={error} /> : null}
      <Grid
        id="audit"
        caption="Admin actions"
        columns={["time", "actor", "action", "database", "outcome", "client"]}
        rows={entries.map((e) => [
          new Date(e.at).toLocaleString(),
          e.actor,
          e.action,
          e.database ?? "",
          e.outcome,
          e.client,
        ])}
      />
      {cursor ? (
        <button type="button" onClick={() => void load(true)}>
          Older entries
        </button>
      ) : null}
    </>
  );
}
