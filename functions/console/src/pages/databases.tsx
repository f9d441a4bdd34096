import { useState } from "hono/jsx";
import { ErrorBox } from "../components/error-box";
import { Chart } from "../components/sparkline";
import { humanSize } from "../format";
import { useLiveDatabases } from "../live";
import { can, client, failureOf, type Session, unwrap } from "../session";

/**
 * A database name as the API takes it: a DNS label. Written for the `v` flag that browsers
 * compile `pattern` with (a hyphen in a class is escaped there).
 */
/** A database name (a DNS label), as the input pattern of name fields. */
export const NAME_PATTERN = "[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?";

type Status = { message: string } | { code?: string; message: string; error: true } | null;

/** The databases the key may see, live: status, size against quota, queries a second. */
export function DatabasesPage({ session }: { session: Session }) {
  const live = useLiveDatabases(session);
  const [status, setStatus] = useState<Status>(null);
  const api = client(session.token);

  const create = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim();
    const quotaMb = (form.elements.namedItem("quota") as HTMLInputElement).value.trim();
    setStatus({ message: "Creating…" });
    try {
      const db = await unwrap(
        api.POST("/admin/databases", {
          body: {
            name,
            ...(quotaMb ? { quotaBytes: Math.round(Number(quotaMb) * 1024 * 1024) } : {}),
          },
        }),
      );
      setStatus({ message: `Created ${db.name}.` });
      form.reset();
      live.refresh();
    } catch (err) {
      setStatus({ ...failureOf(err), error: true });
    }
  };

  const remove = async (name: string) => {
    if (!confirm(`Delete the database "${name}" and all its data?`)) return;
    try {
      await unwrap(api.DELETE("/admin/databases/{name}", { params: { path: { name } } }));
      setStatus({ message: `Deleted ${name}.` });
      live.refresh();
    } catch (err) {
      setStatus({ ...failureOf(err), error: true });
    }
  };

  return (
    <>
      <h1>Databases</h1>
      {can(session, "databases:create") ? (
        <form class="row" onSubmit={create}>
          <label for="new-db">New database</label>
          <input
            id="new-db"
            name="name"
            required
            pattern={NAME_PATTERN}
            maxlength={63}
            placeholder="my-app"
            autocomplete="off"
            title="Lower-case letters, digits and hyphens (not first or last), up to 63"
          />
          <label for="new-quota">Quota (MiB, optional)</label>
          <input id="new-quota" name="quota" type="number" min="1" step="1" class="short" />
          <button type="submit">Create</button>
        </form>
      ) : null}
      <div aria-live="polite">
        {status && "error" in status ? (
          <ErrorBox error={status} />
        ) : status ? (
          <p>{status.message}</p>
        ) : null}
      </div>
      <p class="muted" aria-live="polite">
        {live.connected ? "Live" : "Connecting…"}
      </p>
      {live.databases.length === 0 ? (
        <p class="muted">{live.connected ? "No databases yet." : "Loading…"}</p>
      ) : (
        <table class="grid db-list" aria-label="Databases">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Size / quota</th>
              <th scope="col">Queries/s</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {live.databases.map((db) => (
              <tr>
                <td data-label="Name">
                  <a href={`#/db/${db.name}`}>{db.name}</a>
                </td>
                <td data-label="Status">
                  <span class={`badge ${db.status}`}>{db.status}</span>
                </td>
                <td data-label="Size / quota" class="num">
                  {humanSize(db.sizeBytes)} / {humanSize(db.quotaBytes)}
                </td>
                <td data-label="Queries/s">
                  <Chart
                    points={live.qps[db.name] ?? []}
                    label={`Queries a second on ${db.name}`}
                    width={120}
                    height={28}
                  />
                </td>
                <td>
                  {can(session, "databases:delete") ? (
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Delete ${db.name}`}
                      onClick={() => remove(db.name)}
                    >
                      Delete
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
