import { useEffect, useMemo, useRef, useState } from "hono/jsx";
import { analyzeSql } from "../../../../core/sql/analyze";
import { CopyButton } from "../components/copy-button";
import { ErrorBox } from "../components/error-box";
import { Grid } from "../components/grid";
import { SqlInput } from "../components/sql-input";
import {
  type IndexSuggestion,
  type PlanNode,
  planTree,
  suggestIndexes,
  type TableInfo,
} from "../explain";
import { client, failureOf, type Session, unwrap } from "../session";

type Outcome =
  | { kind: "running" }
  | { kind: "error"; error: { code?: string; message: string } }
  | { kind: "result"; status: string; columns: string[]; rows: unknown[][] }
  | { kind: "plan"; plan: PlanNode[]; suggestions: IndexSuggestion[] };

/** Tables and views with their columns and indexes, for completion and index suggestions. */
async function loadSchema(session: Session, db: string): Promise<Record<string, TableInfo>> {
  const api = client(session.token);
  const query = (sql: string) =>
    unwrap(
      api.POST("/api/db/{name}/query", {
        params: { path: { name: db } },
        body: { sql, rowMode: "array" },
      }),
    );
  const columns = await query(
    "SELECT m.name, c.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS c WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid",
  );
  const indexes = await query(
    "SELECT m.name, il.name, ii.name FROM sqlite_schema AS m, pragma_index_list(m.name) AS il, pragma_index_info(il.name) AS ii WHERE m.type = 'table' ORDER BY m.name, il.name, ii.seqno",
  );
  const tables: Record<string, TableInfo> = {};
  for (const [table, column] of columns.rows as string[][]) {
    const info = tables[table as string] ?? { columns: [], indexes: [] };
    info.columns.push(column as string);
    tables[table as string] = info;
  }
  const byIndex = new Map<string, { table: string; columns: string[] }>();
  for (const [table, index, column] of indexes.rows as string[][]) {
    const entry = byIndex.get(index as string) ?? { table: table as string, columns: [] };
    entry.columns.push(column as string);
    byIndex.set(index as string, entry);
  }
  for (const { table, columns: cols } of byIndex.values()) tables[table]?.indexes.push(cols);
  return tables;
}

/** The SQL editor: run (Ctrl-Enter), parameters as JSON, results, errors, EXPLAIN QUERY PLAN. */
export function SqlPage({ session, db }: { session: Session; db: string }) {
  const text = useRef("");
  const [params, setParams] = useState("");
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [schema, setSchema] = useState<Record<string, TableInfo>>({});
  const api = client(session.token);

  const refreshSchema = () => loadSchema(session, db).then(setSchema, () => setSchema({}));
  useEffect(() => {
    void refreshSchema();
  }, [db]);

  const parsedParams = (): { ok: true; value: unknown } | { ok: false } => {
    if (!params.trim()) return { ok: true, value: undefined };
    try {
      return { ok: true, value: JSON.parse(params) };
    } catch {
      setOutcome({
        kind: "error",
        error: {
          code: "BAD_PARAMETERS",
          message: "Parameters must be JSON: an array or an object",
        },
      });
      return { ok: false };
    }
  };

  const runOne = (sql: string, args: unknown) =>
    unwrap(
      api.POST("/api/db/{name}/query", {
        params: { path: { name: db } },
        body: { sql, rowMode: "array", ...(args === undefined ? {} : { params: args as never }) },
      }),
    );

  const run = async () => {
    const args = parsedParams();
    if (!args.ok) return;
    const statements = analyzeSql(text.current).map((s) => s.sql);
    if (statements.length === 0)
      return setOutcome({ kind: "error", error: { message: "Nothing to run" } });
    setOutcome({ kind: "running" });
    const started = performance.now();
    try {
      let last: Awaited<ReturnType<typeof runOne>> | undefined;
      for (const [i, statement] of statements.entries()) {
        // Parameters belong to the last statement (the one usually being worked on).
        last = await runOne(statement, i === statements.length - 1 ? args.value : undefined);
      }
      if (!last) return;
      const ms = (performance.now() - started).toFixed(1);
      const summary =
        last.columns.length > 0
          ? `${last.rows.length} row${last.rows.length === 1 ? "" : "s"}`
          : `${last.rowsAffected} row${last.rowsAffected === 1 ? "" : "s"} affected`;
      const ran = statements.length > 1 ? `${statements.length} statements · ` : "";
      setOutcome({
        kind: "result",
        status: `${ran}${summary} · ${ms} ms`,
        columns: last.columns,
        rows: last.rows as unknown[][],
      });
      if (statements.some((s) => /^\s*(create|drop|alter)\b/i.test(s))) void refreshSchema();
    } catch (err) {
      setOutcome({ kind: "error", error: failureOf(err) });
    }
  };

  const explain = async () => {
    const args = parsedParams();
    if (!args.ok) return;
    const statements = analyzeSql(text.current).map((s) => s.sql);
    const sql = statements.at(-1);
    if (!sql) return setOutcome({ kind: "error", error: { message: "Nothing to explain" } });
    setOutcome({ kind: "running" });
    try {
      const plan = planTree(
        (await runOne(`EXPLAIN QUERY PLAN ${sql}`, args.value)).rows as unknown[][],
      );
      setOutcome({ kind: "plan", plan, suggestions: suggestIndexes(plan, sql, schema) });
    } catch (err) {
      setOutcome({ kind: "error", error: failureOf(err) });
    }
  };

  const completion = useMemo(
    () => Object.fromEntries(Object.entries(schema).map(([t, info]) => [t, info.columns])),
    [schema],
  );
  return (
    <div class="stack">
      <label id="sql-label" for="sql">
        SQL (Ctrl-Enter to run)
      </label>
      <SqlInput
        id="sql"
        labelId="sql-label"
        schema={completion}
        onRun={() => void run()}
        onChange={(value) => {
          text.current = value;
        }}
      />
      <label for="params">Parameters (JSON array or object, optional)</label>
      <input
        id="params"
        value={params}
        onInput={(e: Event) => setParams((e.target as HTMLInputElement).value)}
        placeholder='[1, "two"] or {"id": 1}'
        autocomplete="off"
      />
      <div class="row">
        <button type="button" onClick={() => void run()}>
          Run
        </button>
        <button type="button" class="secondary" onClick={() => void explain()}>
          Explain
        </button>
      </div>
      <section aria-live="polite" aria-label="Query results" id="results">
        {outcome?.kind === "running" ? <p class="status">Running…</p> : null}
        {outcome?.kind === "error" ? <ErrorBox error={outcome.error} /> : null}
        {outcome?.kind === "result" ? (
          <>
            <p class="status" id="result-status">
              {outcome.status}
            </p>
            {outcome.columns.length > 0 ? (
              <Grid columns={outcome.columns} rows={outcome.rows} caption="Result" />
            ) : null}
          </>
        ) : null}
        {outcome?.kind === "plan" ? (
          <Plan plan={outcome.plan} suggestions={outcome.suggestions} />
        ) : null}
      </section>
    </div>
  );
}

function Plan({ plan, suggestions }: { plan: PlanNode[]; suggestions: IndexSuggestion[] }) {
  const node = (n: PlanNode) => (
    <li>
      <span class={/^SCAN /.test(n.detail) && !/USING/.test(n.detail) ? "scan" : undefined}>
        {n.detail}
      </span>
      {n.children.length > 0 ? <ul>{n.children.map(node)}</ul> : null}
    </li>
  );
  return (
    <div id="plan">
      <h2>Query plan</h2>
      <ul class="plan" aria-label="Query plan">
        {plan.map(node)}
      </ul>
      {suggestions.length === 0 ? (
        <p class="muted">No index suggestions: no full scan is filtered on unindexed columns.</p>
      ) : (
        <>
          <h3>Index suggestions</h3>
          {suggestions.map((s) => (
            <div class="suggestion">
              <p>
                A full scan of <strong>{s.table}</strong> filters on {s.columns.join(", ")}, which
                no index starts with:
              </p>
              <pre class="wrap" tabindex={0}>
                <code>{s.sql}</code>
              </pre>
              <CopyButton text={s.sql} label="Copy CREATE INDEX" />
            </div>
          ))}
        </>
      )}
    </div>
  );
}
