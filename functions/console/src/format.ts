/** Display of SQL values and sizes. */
export type Cell = null | string | number | { type: "blob"; base64: string } | unknown;

export function cellNode(value: Cell): Node {
  if (value === null || value === undefined) {
    const span = document.createElement("span");
    span.className = "null";
    span.textContent = "NULL";
    return span;
  }
  if (typeof value === "object" && (value as { type?: string }).type === "blob") {
    const span = document.createElement("span");
    span.className = "blob";
    span.textContent = `<blob ${atob((value as { base64: string }).base64).length} B>`;
    return span;
  }
  return document.createTextNode(String(value));
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}
