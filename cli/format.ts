/** Terminal output: result tables and a progress bar. */

type Cell = null | string | number | boolean | { type: "blob"; base64: string } | unknown;

function cellText(value: Cell): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object" && (value as { type?: string }).type === "blob") {
    const bytes = atob((value as { base64: string }).base64).length;
    return `<blob ${bytes} B>`;
  }
  return String(value);
}

/** A boxed table; long cells are cut at `maxWidth`. */
export function renderTable(columns: string[], rows: Cell[][], maxWidth = 60): string {
  const cells = rows.map((row) =>
    row.map((v) => cellText(v).replace(/\s+/g, " ").slice(0, maxWidth)),
  );
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] ?? "").length)),
  );
  const line = (l: string, m: string, r: string) =>
    `${l}${widths.map((w) => "─".repeat(w + 2)).join(m)}${r}`;
  const row = (values: string[]) =>
    `│${values.map((v, i) => ` ${v.padEnd(widths[i] ?? 0)} `).join("│")}│`;
  return [
    line("┌", "┬", "┐"),
    row(columns),
    line("├", "┼", "┤"),
    ...cells.map(row),
    line("└", "┴", "┘"),
  ].join("\n");
}

/** A one-line progress bar on stderr (redrawn in place on a terminal). */
export class ProgressBar {
  private lastDrawn = -1;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number): void {
    const percent = this.total === 0 ? 100 : Math.floor((done / this.total) * 100);
    if (percent === this.lastDrawn && done !== this.total) return;
    this.lastDrawn = percent;
    const width = 30;
    const filled = Math.round((percent / 100) * width);
    const bar = `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(percent).padStart(3)}% ${done}/${this.total} ${this.label}`;
    if (this.stream.isTTY) this.stream.write(`\r${bar}`);
    else this.stream.write(`${bar}\n`);
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write("\n");
  }
}
