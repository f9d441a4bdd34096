import { useEffect, useState } from "hono/jsx";
import type { components } from "../../../client";
import { ErrorBox } from "../components/error-box";
import { Grid } from "../components/grid";
import { client, failureOf, type Session, unwrap } from "../session";

const OPERATORS = [
  ["eq", "="],
  ["neq", "≠"],
  ["gt", ">"],
  ["gte", "≥"],
  ["lt", "<"],
  ["lte", "≤"],
  ["like", "like"],
  ["is", "is (null/notnull)"],
] as const;
const PAGE_SIZES = [25, 50, 100, 250];

interface Filter {
  column: string;
  op: string;
  value: string;
}

type TableList = components["schemas"]["TableList"]["tables"];
type TableDetail = components["schemas"]["Table"];

/** Schema browser and table data browser (pagination, sorting, filters). */
export function TablesPage(props: { session: Session; db: string; table: string | undefined }) {
  const { session, db, table: selected } = props;
  const api = client(session.token);
  const [tables, setTables] = useState<TableList | { error: ReturnType<typeof failureOf> } | null>(
    null,
  );
  const [detail, setDetail] = useState<
    TableDetail | { error: ReturnType<typeof failureOf> } | null
  >(null);

  useEffect(() => {
    unwrap(api.GET("/api/db/{name}/tables", { params: { path: { name: db } } })).then(
      (r) => setTables(r.tables),
      (err) => setTables({ error: failureOf(err) }),
    );
  }, [db]);
  useEffect(() => {
    setDetail(null);
    if (!selected) return;
    unwrap(
      api.GET("/api/db/{name}/tables/{table}", { params: { path: { name: db, table: selected } } }),
    ).then(
      (t) => setDetail(t),
      (err) => setDetail({ error: failureOf(err) }),
    );
  }, [db, selected]);

  if (!tables) return <p class="muted">Loading…</p>;
  if ("error" in tables) return <ErrorBox error={tables.error} />;
  return (
    <div class="split">
      <nav class="table-list" aria-label="Tables">
        {tables.length === 0 ? (
          <p class="muted">No tables yet. Create one in the SQL editor.</p>
        ) : (
          <ul>
            {tables.map((t) => (
              <li>
                <a
                  href={`#/db/${db}/tables/${encodeURIComponent(t.name)}`}
                  aria-current={t.name === selected ? "page" : undefined}
                >
                  {t.name}
                </a>
                <span class="muted">
                  {" "}
                  {t.type === "view" ? "view · " : ""}
                  {t.columns} col
                </span>
              </li>
            ))}
          </ul>
        )}
      </nav>
      <div class="table-detail">
        {!selected ? (
          <p class="muted">{tables.length ? "Choose a table." : ""}</p>
        ) : !detail ? (
          <p class="muted">Loading…</p>
        ) : "error" in detail ? (
          <ErrorBox error={detail.error} />
        ) : (
          <>
            <section aria-label="Schema">
              <h2>{detail.name}</h2>
              <Grid
                caption="Columns"
                columns={["column", "type", "not null", "default", "primary key"]}
                rows={detail.columns.map((c) => [
                  c.name,
                  c.type,
                  c.notNull ? "yes" : "",
                  c.default ?? "",
                  c.primaryKey ? String(c.primaryKey) : "",
                ])}
              />
              {detail.indexes.length ? (
                <Grid
                  caption="Indexes"
                  columns={["index", "unique", "columns"]}
                  rows={detail.indexes.map((i) => [
                    i.name,
                    i.unique ? "yes" : "",
                    i.columns.join(", "),
                  ])}
                />
              ) : null}
            </section>
            <Rows
              session={session}
              db={db}
              table={detail.name}
              columns={detail.columns.map((c) => c.name)}
            />
          </>
        )}
      </div>
    </div>
  );
}

function Rows(props: { session: Session; db: string; table: string; columns: string[] }) {
  const { db, table, columns } = props;
  const api = client(props.session.token);
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(25);
  const [sort, setSort] = useState<{ column: string; descending: boolean } | undefined>(undefined);
  const [filters, setFilters] = useState<Filter[]>([]);
  const [page, setPage] = useState<
    | { columns: string[]; rows: unknown[][]; total: number }
    | { error: ReturnType<typeof failureOf> }
    | null
  >(null);

  useEffect(() => {
    const query: Record<string, string> = {
      limit: String(limit),
      offset: String(offset),
      count: "true",
    };
    if (sort) query.order = `${sort.column}.${sort.descending ? "desc" : "asc"}`;
    const search = new URLSearchParams(query);
    for (const f of filters) search.append(`where.${f.column}`, `${f.op}.${f.value}`);
    // Filters are dynamic query parameters, beyond what the typed client knows.
    unwrap(
      api.GET("/api/db/{name}/tables/{table}/rows", {
        params: { path: { name: db, table }, query: Object.fromEntries(search) as never },
        querySerializer: () => search.toString(),
      }),
    ).then(
      (p) =>
        setPage({
          columns: p.columns,
          rows: p.rows.map((r) => p.columns.map((c) => (r as Record<string, unknown>)[c])),
          total: p.total ?? p.rows.length,
        }),
      (err) => setPage({ error: failureOf(err) }),
    );
  }, [db, table, offset, limit, sort?.column, sort?.descending, filters]);

  const addFilter = (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const field = (id: string) => (form.elements.namedItem(id) as HTMLInputElement).value;
    setFilters([...filters, { column: field("column"), op: field("op"), value: field("value") }]);
    (form.elements.namedItem("value") as HTMLInputElement).value = "";
    setOffset(0);
  };

  const from = page && !("error" in page) && page.total > 0 ? offset + 1 : 0;
  const to = page && !("error" in page) ? offset + page.rows.length : 0;
  return (
    <section aria-label="Rows">
      <h3>Rows</h3>
      <form class="row" onSubmit={addFilter}>
        <select id="filter-column" name="column" aria-label="Filter column">
          {columns.map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
        <select id="filter-op" name="op" aria-label="Filter operator">
          {OPERATORS.map(([v, label]) => (
            <option value={v}>{label}</option>
          ))}
        </select>
        <input id="filter-value" name="value" aria-label="Filter value" placeholder="value" />
        <button type="submit">Add filter</button>
      </form>
      <ul class="chips" aria-label="Active filters">
        {filters.map((f, i) => (
          <li>
            {`${f.column} ${f.op} ${f.value}`}
            <button
              type="button"
              aria-label={`Remove filter ${f.column} ${f.op} ${f.value}`}
              onClick={() => {
                setFilters(filters.filter((_, j) => j !== i));
                setOffset(0);
              }}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div class="row">
        <select
          id="page-size"
          aria-label="Rows per page"
          onChange={(e: Event) => {
            setLimit(Number((e.target as HTMLSelectElement).value));
            setOffset(0);
          }}
        >
          {PAGE_SIZES.map((n) => (
            <option value={String(n)} selected={n === limit}>
              {n} per page
            </option>
          ))}
        </select>
      </div>
      <div aria-live="polite">
        {!page ? (
          <p class="muted">Loading…</p>
        ) : "error" in page ? (
          <ErrorBox error={page.error} />
        ) : (
          <>
            <p class="status" id="rows-status">
              Rows {from}–{to} of {page.total}
            </p>
            <Grid
              caption={`Rows of ${table}`}
              columns={page.columns}
              rows={page.rows}
              sort={sort}
              onSort={(c) =>
                setSort({ column: c, descending: sort?.column === c ? !sort.descending : false })
              }
            />
            <div class="row">
              <button
                type="button"
                disabled={offset === 0}
                onClick={() => setOffset(Math.max(0, offset - limit))}
              >
                Previous page
              </button>
              <button
                type="button"
                disabled={to >= page.total}
                onClick={() => setOffset(offset + limit)}
              >
                Next page
              </button>
            </div>
          </>
        )}
      </div>
    </section>
  );
}
