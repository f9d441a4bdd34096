import { useEffect, useState } from "hono/jsx";
import type { components } from "../../../client";
import { ErrorBox } from "../components/error-box";
import { humanSize } from "../format";
import { can, client, failureOf, type Session, unwrap } from "../session";
import { NAME_PATTERN } from "./databases";

type BackupList = components["schemas"]["BackupList"];
type Backup = BackupList["backups"][number];

/**
 * A database's backups: list them, take one now, download one as a SQLite file, restore one
 * (in place or as a new database), restore to an instant, fork.
 */
export function BackupsPage(props: { session: Session; db: string }) {
  const { session, db } = props;
  const api = client(session.token);
  const path = { params: { path: { name: db } } };
  const manage = can(session, "backups:manage");
  const [list, setList] = useState<BackupList | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<ReturnType<typeof failureOf> | null>(null);
  const refresh = () =>
    unwrap(api.GET("/admin/databases/{name}/backups", path)).then(setList, (err) =>
      setError(failureOf(err)),
    );
  useEffect(() => {
    void refresh();
  }, [db]);

  /** Runs an action with the buttons disabled, then reports and refreshes. */
  const run = async (action: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    try {
      setNotice(await action());
      await refresh();
    } catch (err) {
      setError(failureOf(err));
      setNotice(null);
    } finally {
      setBusy(false);
    }
  };
  const backUp = () =>
    run(async () => {
      const made = await unwrap(api.POST("/admin/databases/{name}/backups", path));
      return `Backup ${made.id} taken (${humanSize(made.sizeBytes)})`;
    });
  const restore = (body: { backupId?: string; timestamp?: string; as?: string }) =>
    run(async () => {
      const done = await unwrap(api.POST("/admin/databases/{name}/restore", { ...path, body }));
      return `${done.database.name} restored to ${new Date(done.restoredTo).toLocaleString()}`;
    });
  const restoreBackup = (backup: Backup, asNew: boolean) => {
    if (asNew) {
      const as = prompt("Name of the new database", `${db}-restored`);
      if (as) void restore({ backupId: backup.id, as });
    } else if (confirm(`Restore ${db} to the backup of ${backup.createdAt}? Later changes go.`)) {
      void restore({ backupId: backup.id });
    }
  };
  /** Saves what `path` answers as a file (the API needs the token, so no plain link). */
  const save = (path: string, filename: string) =>
    run(async () => {
      const res = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
      if (!res.ok) {
        const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
        throw Object.assign(new Error(problem.detail ?? `download failed (${res.status})`), {
          code: problem.code,
        });
      }
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await res.blob());
      link.download = filename;
      link.click();
      URL.revokeObjectURL(link.href);
      return `Downloaded ${filename}`;
    });
  const download = (backup: Backup) =>
    save(
      `/admin/databases/${encodeURIComponent(db)}/backups/${encodeURIComponent(backup.id)}/file`,
      `${db}-${backup.id}.db`,
    );
  const exportNow = (format: "sql" | "sqlite") =>
    save(
      `/api/db/${encodeURIComponent(db)}/export?format=${format}`,
      `${db}.${format === "sql" ? "sql" : "db"}`,
    );
  const formValue = (form: HTMLFormElement, name: string) =>
    (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  const restoreToInstant = (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const at = formValue(form, "at");
    const as = formValue(form, "as");
    if (!as && !confirm(`Restore ${db} in place to ${at}? Later changes go.`)) return;
    void restore({ timestamp: new Date(at).toISOString(), ...(as ? { as } : {}) });
  };
  const fork = (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const name = formValue(form, "fork");
    const at = formValue(form, "forkAt");
    void run(async () => {
      const made = await unwrap(
        api.POST("/admin/databases/{name}/fork", {
          ...path,
          body: { name, ...(at ? { timestamp: new Date(at).toISOString() } : {}) },
        }),
      );
      return `Forked ${db} as ${made.name}`;
    });
  };

  return (
    <div class="stack">
      <div aria-live="polite">
        {error ? <ErrorBox error={error} /> : null}
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
      </div>
      {list ? (
        <p class="muted">
          {list.restorableFrom
            ? `Restorable to any moment since ${new Date(list.restorableFrom).toLocaleString()}.`
            : "No backup yet."}{" "}
          A backup every {Math.round(list.schedule.intervalS / 3600)} h, keeping{" "}
          {list.schedule.keep}, none older than {Math.round(list.schedule.maxAgeS / 86400)} days.
        </p>
      ) : null}
      <div class="row">
        {manage ? (
          <button type="button" disabled={busy} onClick={() => void backUp()}>
            Back up now
          </button>
        ) : null}
        {can(session, "data:read") ? (
          <>
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() => void exportNow("sql")}
            >
              Export SQL
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() => void exportNow("sqlite")}
            >
              Export SQLite file
            </button>
          </>
        ) : null}
      </div>
      <ul class="cards" aria-label="Backups">
        {(list?.backups ?? []).map((b) => (
          <li class="card">
            <p>
              <strong>{new Date(b.createdAt).toLocaleString()}</strong>{" "}
              {b.current ? <span class="badge">current</span> : null}
            </p>
            <p class="muted wrap">
              {humanSize(b.sizeBytes)} · {b.engine} · {b.target} · sha256 {b.sha256.slice(0, 16)}…
            </p>
            <div class="row">
              {manage ? (
                <>
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Download the backup of ${b.createdAt}`}
                    onClick={() => void download(b)}
                  >
                    Download
                  </button>
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Restore the backup of ${b.createdAt} as a new database`}
                    onClick={() => restoreBackup(b, true)}
                  >
                    Restore as new…
                  </button>
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    aria-label={`Restore ${db} to the backup of ${b.createdAt}`}
                    onClick={() => restoreBackup(b, false)}
                  >
                    Restore
                  </button>
                </>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      {manage ? (
        <form class="stack card" onSubmit={restoreToInstant}>
          <h2>Restore to a point in time</h2>
          <label for="restore-at">Moment (your local time)</label>
          <input id="restore-at" name="at" type="datetime-local" step="1" required />
          <label for="restore-as">Into a new database (empty: restore {db} in place)</label>
          <input id="restore-as" name="as" autocomplete="off" pattern={NAME_PATTERN} />
          <div class="row">
            <button type="submit" disabled={busy}>
              Restore
            </button>
          </div>
        </form>
      ) : null}
      {can(session, "databases:create") ? (
        <form class="stack card" onSubmit={fork}>
          <h2>Fork</h2>
          <label for="fork-name">Name of the fork</label>
          <input id="fork-name" name="fork" required autocomplete="off" pattern={NAME_PATTERN} />
          <label for="fork-at">As of (empty: now)</label>
          <input id="fork-at" name="forkAt" type="datetime-local" step="1" />
          <div class="row">
            <button type="submit" disabled={busy}>
              Fork
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
