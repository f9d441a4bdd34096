/** Display of SQL values, sizes and times. */
export type Cell = null | string | number | { type: "blob"; base64: string } | unknown;

export function cellText(value: Cell): { text: string; kind?: "null" | "blob" } {
  if (value === null || value === undefined) return { text: "NULL", kind: "null" };
  if (typeof value === "object" && (value as { type?: string }).type === "blob")
    return { text: `<blob ${atob((value as { base64: string }).base64).length} B>`, kind: "blob" };
  return { text: String(value) };
}

export { formatBytes as humanSize } from "../../../core/byte-size";

export const when = (iso: string): string => new Date(iso).toLocaleString();
