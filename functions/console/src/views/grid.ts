import { h } from "../dom";
import { type Cell, cellNode } from "../format";

export interface GridOptions {
  caption?: string;
  /** Column currently sorted, and direction, for sortable headers. */
  sort?: { column: string; descending: boolean };
  onSort?: (column: string) => void;
}

/** A results grid: a real table, scrollable on narrow screens, with optional sortable headers. */
export function grid(columns: string[], rows: Cell[][], options: GridOptions = {}): HTMLElement {
  const header = columns.map((column) => {
    const sorted = options.sort?.column === column;
    const ariaSort = sorted
      ? options.sort?.descending
        ? "descending"
        : "ascending"
      : options.onSort
        ? "none"
        : undefined;
    const label = options.onSort
      ? h(
          "button",
          { type: "button", class: "sort", onclick: () => options.onSort?.(column) },
          column,
          sorted ? (options.sort?.descending ? " ▼" : " ▲") : "",
        )
      : column;
    return h("th", { scope: "col", "aria-sort": ariaSort }, label);
  });
  const body = rows.map((row) =>
    h(
      "tr",
      {},
      ...row.map((value) =>
        h("td", { class: typeof value === "number" ? "num" : undefined }, cellNode(value)),
      ),
    ),
  );
  return h(
    "div",
    {
      class: "grid-wrap",
      tabindex: "0",
      role: "region",
      "aria-label": options.caption ?? "Results",
    },
    h(
      "table",
      { class: "grid" },
      options.caption ? h("caption", {}, options.caption) : null,
      h("thead", {}, h("tr", {}, ...header)),
      h("tbody", {}, ...body),
    ),
  );
}
