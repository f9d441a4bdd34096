import { type Cell, cellText } from "../format";

export interface GridProps {
  columns: string[];
  rows: Cell[][];
  caption?: string;
  /** Column sorted and direction, for sortable headers. */
  sort?: { column: string; descending: boolean } | undefined;
  onSort?: (column: string) => void;
  id?: string;
}

/** A results grid: a real table that scrolls inside its box on narrow screens. */
export function Grid(props: GridProps) {
  const { sort, onSort } = props;
  return (
    <section class="grid-wrap" tabindex={0} aria-label={props.caption ?? "Results"}>
      <table class="grid" id={props.id}>
        {props.caption ? <caption>{props.caption}</caption> : null}
        <thead>
          <tr>
            {props.columns.map((column) => {
              const sorted = sort?.column === column;
              const ariaSort = sorted
                ? sort?.descending
                  ? "descending"
                  : "ascending"
                : onSort
                  ? "none"
                  : undefined;
              return (
                <th scope="col" aria-sort={ariaSort}>
                  {onSort ? (
                    <button type="button" class="sort" onClick={() => onSort(column)}>
                      {column}
                      {sorted ? (sort?.descending ? " ▼" : " ▲") : ""}
                    </button>
                  ) : (
                    column
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              {row.map((value) => {
                const cell = cellText(value);
                return (
                  <td class={typeof value === "number" ? "num" : undefined}>
                    {cell.kind ? <span class={cell.kind}>{cell.text}</span> : cell.text}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
