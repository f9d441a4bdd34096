/** Tiny benchmark helpers: time a fixed amount of work, report ops/s and ratios. */

export interface Measurement {
  name: string;
  ops: number;
  seconds: number;
}

export const opsPerSecond = (m: Measurement): number => m.ops / m.seconds;

/** Runs `op` `count` times with `concurrency` callers in flight, after a short warm-up. */
export async function measure(
  name: string,
  count: number,
  op: (i: number) => Promise<unknown> | unknown,
  concurrency = 1,
): Promise<Measurement> {
  for (let i = 0; i < Math.min(50, count); i++) await op(-1 - i);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, ops: count, seconds };
}

/** Prints rows of measurements next to a baseline measured in the same run. */
export function report(
  title: string,
  rows: Array<{ subject: Measurement; baseline: Measurement }>,
): void {
  console.log(`\n${title}`);
  const table = rows.map(({ subject, baseline }) => ({
    benchmark: subject.name,
    "ops/s": Math.round(opsPerSecond(subject)),
    baseline: baseline.name,
    "baseline ops/s": Math.round(opsPerSecond(baseline)),
    ratio: (opsPerSecond(subject) / opsPerSecond(baseline)).toFixed(3),
  }));
  console.table(table);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (i: number) => sorted[i] ?? Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}
