import { useEffect, useState } from "hono/jsx";
import type { components } from "../../../client";
import { CopyButton } from "../components/copy-button";
import { ErrorBox } from "../components/error-box";
import { client, failureOf, storedToken, unwrap } from "../session";

type Key = components["schemas"]["ApiKey"];

const ROLES = [
  ["developer", "developer: query, read and write data"],
  ["viewer", "viewer: read only"],
  ["admin", "admin: databases and tokens"],
  ["owner", "owner: everything, keys included"],
] as const;

/** API keys: create (shown once), list, revoke. */
export function KeysPage() {
  const api = client(storedToken() ?? "");
  const [keys, setKeys] = useState<Key[]>([]);
  const [created, setCreated] = useState<{ key: string; id: string } | null>(null);
  const [error, setError] = useState<ReturnType<typeof failureOf> | null>(null);
  const refresh = () =>
    unwrap(api.GET("/admin/keys")).then(
      (r) => setKeys(r.keys),
      (err) => setError(failureOf(err)),
    );
  useEffect(() => {
    void refresh();
  }, []);

  const create = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const value = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value.trim();
    const scope = value("databases");
    try {
      const key = await unwrap(
        api.POST("/admin/keys", {
          body: {
            name: value("name"),
            role: value("role") as Key["role"],
            databases:
              scope === "" || scope === "*"
                ? "*"
                : scope
                    .split(",")
                    .map((s) => s.trim())
                    .filter(Boolean),
          },
        }),
      );
      setCreated({ key: key.key, id: key.id });
      setError(null);
      form.reset();
      await refresh();
    } catch (err) {
      setError(failureOf(err));
    }
  };
  const revoke = async (key: Key) => {
    if (!confirm(`Revoke the key "${key.name}"? Everything using it stops working.`)) return;
    try {
      await unwrap(api.DELETE("/admin/keys/{id}", { params: { path: { id: key.id } } }));
      await refresh();
    } catch (err) {
      setError(failureOf(err));
    }
  };

  return (
    <>
      <h1>API keys</h1>
      <form class="stack card" onSubmit={create}>
        <h2>New key</h2>
        <label for="key-name">Name</label>
        <input id="key-name" name="name" required maxlength={100} autocomplete="off" />
        <label for="key-role">Role</label>
        <select id="key-role" name="role">
          {ROLES.map(([v, label]) => (
            <option value={v}>{label}</option>
          ))}
        </select>
        <label for="key-databases">Databases (* or names and prefixes, comma separated)</label>
        <input
          id="key-databases"
          name="databases"
          placeholder="app-*, analytics"
          autocomplete="off"
        />
        <div class="row">
          <button type="submit">Create key</button>
        </div>
      </form>
      <div aria-live="polite">
        {error ? <ErrorBox error={error} /> : null}
        {created ? (
          <div class="card" id="new-key">
            <p>
              <strong>Key {created.id}</strong>: copy it now, it is not shown again.
            </p>
            <pre class="wrap" tabindex={0}>
              <code>{created.key}</code>
            </pre>
            <CopyButton text={created.key} label="Copy key" />
          </div>
        ) : null}
      </div>
      <ul class="cards" aria-label="Keys">
        {keys.map((k) => (
          <li class="card">
            <p>
              <strong>{k.name}</strong> <span class="badge">{k.role}</span>{" "}
              {k.revokedAt ? <span class="badge stopped">revoked</span> : null}
            </p>
            <p class="muted">
              {k.id} · {k.databases === "*" ? "every database" : k.databases.join(", ")} · created{" "}
              {new Date(k.createdAt).toLocaleString()}
            </p>
            {k.revokedAt ? null : (
              <button
                type="button"
                class="danger"
                aria-label={`Revoke ${k.name}`}
                onClick={() => void revoke(k)}
              >
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
