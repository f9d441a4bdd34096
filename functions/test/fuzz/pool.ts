/** Runs `jobs` with at most `concurrency` in flight. */
export async function runPool<T>(
  jobs: readonly T[],
  concurrency: number,
  run: (job: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as T;
      await run(job);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Per-target counters for the summary line. */
export class Tally {
  readonly byTarget = new Map<string, Record<string, number>>();

  add(target: string, key: string): void {
    const counts = this.byTarget.get(target) ?? {};
    counts[key] = (counts[key] ?? 0) + 1;
    this.byTarget.set(target, counts);
  }

  count(target: string, key: string): number {
    return this.byTarget.get(target)?.[key] ?? 0;
  }

  toString(): string {
    return [...this.byTarget]
      .map(([target, counts]) => {
        const parts = Object.entries(counts)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, n]) => `${k}=${n}`);
        return `  ${target}: ${parts.join(" ")}`;
      })
      .join("\n");
  }
}
