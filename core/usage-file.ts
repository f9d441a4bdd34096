/**
 * The usage counters a worker keeps for its database, as the file it writes them to (atomically,
 * every few seconds and at shutdown) and the control plane folds into hourly buckets. The
 * counters are cumulative since the worker started (`boot`), so a lost or repeated read never
 * counts twice: the control plane adds the difference to what it saw last of the same boot.
 */
export const USAGE_FILE = "dbforge-usage.json";

export interface UsageCounts {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
  errors: number;
}

export interface UsageSnapshot extends UsageCounts {
  /** Identifies one worker's life; counters start from zero with each. */
  boot: string;
  /** Unix milliseconds of the snapshot. */
  at: number;
}

export const USAGE_FIELDS = ["statements", "rowsRead", "rowsWritten", "errors"] as const;

/** A snapshot read back from its file; undefined for anything that is not one. */
export function parseUsageSnapshot(text: string): UsageSnapshot | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.boot !== "string" || typeof v.at !== "number") return undefined;
  for (const field of USAGE_FIELDS) {
    const n = v[field];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return undefined;
  }
  return v as unknown as UsageSnapshot;
}
