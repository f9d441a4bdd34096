import { client, failureOf, unwrap } from "../api";
import { errorBox, h, render } from "../dom";
import { grid } from "./grid";

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

/** Schema browser and table data browser (pagination, sorting, filters). */
export async function tablesView(
  container: HTMLElement,
  db: string,
  selected: string | undefined,
): Promise<void> {
  const api = client();
  const path = { name: db };
  let tables: Array<{ name: string; type: string; columns: number }>;
  try {
    tables = (await unwrap(api.GET("/api/db/{name}/tables", { params: { path } }))).tables;
  } catch (err) {
    render(container, errorBox(failureOf(err)));
    return;
  }
  const list = h(
    "nav",
    { class: "table-list", "aria-label": "Tables" },
    tables.length === 0
      ? h("p", { class: "muted" }, "No tables yet. Create one in the SQL editor.")
      : h(
          "ul",
          {},
          ...tables.map((t) =>
            h(
              "li",
              {},
              h(
                "a",
                {
                  href: `#/db/${db}/tables/${encodeURIComponent(t.name)}`,
                  "aria-current": t.name === selected ? "page" : undefined,
                },
                t.name,
              ),
              h(
                "span",
                { class: "muted" },
                ` ${t.type === "view" ? "view · " : ""}${t.columns} col`,
              ),
            ),
          ),
        ),
  );
  const detail = h("div", { class: "table-detail" });
  render(container, h("div", { class: "split" }, list, detail));
  if (!selected) {
    render(detail, h("p", { class: "muted" }, tables.length ? "Choose a table." : ""));
    return;
  }
  try {
    const table = await unwrap(
      api.GET("/api/db/{name}/tables/{table}", { params: { path: { name: db, table: selected } } }),
    );
    const schema = h(
      "section",
      { "aria-label": "Schema" },
      h("h2", {}, table.name),
      grid(
        ["column", "type", "not null", "default", "primary key"],
        table.columns.map((c) => [
          c.name,
          c.type,
          c.notNull ? "yes" : "",
          c.default ?? "",
          c.primaryKey ? String(c.primaryKey) : "",
        ]),
        { caption: "Columns" },
      ),
      table.indexes.length
        ? grid(
            ["index", "unique", "columns"],
            table.indexes.map((i) => [i.name, i.unique ? "yes" : "", i.columns.join(", ")]),
            { caption: "Indexes" },
          )
        : null,
    );
    const data = h("section", { "aria-label": "Rows" });
    render(detail, schema, data);
    rowBrowser(
      data,
      db,
      table.name,
      table.columns.map((c) => c.name),
    );
  } catch (err) {
    render(detail, errorBox(failureOf(err)));
  }
}

function rowBrowser(container: HTMLElement, db: string, table: string, columns: string[]): void {
  const api = client();
  const state = {
    offset: 0,
    limit: 25,
    sort: undefined as { column: string; descending: boolean } | undefined,
    filters: [] as Filter[],
  };
  const column = h(
    "select",
    { id: "filter-column", "aria-label": "Filter column" },
    ...columns.map((c) => h("option", { value: c }, c)),
  );
  const op = h(
    "select",
    { id: "filter-op", "aria-label": "Filter operator" },
    ...OPERATORS.map(([v, label]) => h("option", { value: v }, label)),
  );
  const value = h("input", {
    id: "filter-value",
    "aria-label": "Filter value",
    placeholder: "value",
  });
  const size = h(
    "select",
    { id: "page-size", "aria-label": "Rows per page" },
    ...PAGE_SIZES.map((n) => h("option", { value: n }, `${n} per page`)),
  );
  const chips = h("ul", { class: "chips", "aria-label": "Active filters" });
  const results = h("div", { "aria-live": "polite" });
  const filterForm = h(
    "form",
    { class: "row" },
    column,
    op,
    value,
    h("button", { type: "submit" }, "Add filter"),
  );
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters.push({ column: column.value, op: op.value, value: value.value });
    value.value = "";
    state.offset = 0;
    void load();
  });
  size.addEventListener("change", () => {
    state.limit = Number(size.value);
    state.offset = 0;
    void load();
  });

  async function load(): Promise<void> {
    render(
      chips,
      ...state.filters.map((f, i) =>
        h(
          "li",
          {},
          `${f.column} ${f.op} ${f.value}`,
          h(
            "button",
            {
              type: "button",
              "aria-label": `Remove filter ${f.column} ${f.op} ${f.value}`,
              onclick: () => {
                state.filters.splice(i, 1);
                void load();
              },
            },
            "×",
          ),
        ),
      ),
    );
    const query: Record<string, string> = {
      limit: String(state.limit),
      offset: String(state.offset),
      count: "true",
    };
    if (state.sort) query.order = `${state.sort.column}.${state.sort.descending ? "desc" : "asc"}`;
    const search = new URLSearchParams(query);
    for (const f of state.filters) search.append(`where.${f.column}`, `${f.op}.${f.value}`);
    try {
      // Filters are dynamic query parameters, beyond what the typed client knows.
      const page = await unwrap(
        api.GET("/api/db/{name}/tables/{table}/rows", {
          params: { path: { name: db, table }, query: Object.fromEntries(search) as never },
          querySerializer: () => search.toString(),
        }),
      );
      const total = page.total ?? page.rows.length;
      const from = total === 0 ? 0 : state.offset + 1;
      const to = state.offset + page.rows.length;
      render(
        results,
        h("p", { class: "status", id: "rows-status" }, `Rows ${from}–${to} of ${total}`),
        grid(
          page.columns,
          page.rows.map((r) => page.columns.map((c) => (r as Record<string, unknown>)[c])),
          {
            caption: `Rows of ${table}`,
            ...(state.sort ? { sort: state.sort } : {}),
            onSort: (c) => {
              state.sort = {
                column: c,
                descending: state.sort?.column === c ? !state.sort.descending : false,
              };
              void load();
            },
          },
        ),
        h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              type: "button",
              disabled: state.offset === 0,
              onclick: () => {
                state.offset = Math.max(0, state.offset - state.limit);
                void load();
              },
            },
            "Previous page",
          ),
          h(
            "button",
            {
              type: "button",
              disabled: to >= total,
              onclick: () => {
                state.offset += state.limit;
                void load();
              },
            },
            "Next page",
          ),
        ),
      );
    } catch (err) {
      render(results, errorBox(failureOf(err)));
    }
  }

  render(
    container,
    h("h3", {}, "Rows"),
    filterForm,
    chips,
    h("div", { class: "row" }, size),
    results,
  );
  void load();
}
