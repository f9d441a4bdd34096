/**
 * The worker's log: JSON lines in pino's shape (numeric `level`, `time` in ms, `service`, `msg`,
 * then fields), like the control plane's and the functions' logs, so one pipeline reads all
 * three. Not pino itself: a worker runs per database, and pino with its writer would be memory
 * every one of them pays for lines written a few times in a worker's life (see bench/density).
 */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export type LogLevel = keyof typeof LEVELS | "silent";

let threshold: number = LEVELS.info;

export function setLogLevel(level: LogLevel): void {
  threshold = level === "silent" ? Number.POSITIVE_INFINITY : LEVELS[level];
}

export const logEnabled = (level: keyof typeof LEVELS): boolean => LEVELS[level] >= threshold;

/** One log line, as text (also what runMain prints when the worker stops). */
export function logLine(
  level: keyof typeof LEVELS,
  msg: string,
  fields: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    level: LEVELS[level],
    time: Date.now(),
    service: "worker",
    msg,
    ...fields,
  });
}

export function log(
  level: keyof typeof LEVELS,
  msg: string,
  fields?: Record<string, unknown>,
): void {
  if (LEVELS[level] >= threshold) process.stdout.write(`${logLine(level, msg, fields)}\n`);
}
