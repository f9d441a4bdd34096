import { collectDefaultMetrics, type Registry } from "prom-client";

/**
 * A registry's metrics in Prometheus's text format. prom-client 15 writes a NaN sample as
 * `Nan` (lib/util.js), which the format spells `NaN`: Prometheus itself reads either, stricter
 * parsers refuse the scrape. Default metrics are NaN until they have a sample (the event loop
 * lag's mean, right after start), so a scrape early in a process's life had one.
 */
export async function prometheusText(registry: Registry): Promise<string> {
  return (await registry.metrics()).replace(/ Nan$/gm, " NaN");
}

/**
 * prom-client's default metrics (process, heap, GC, event-loop lag) on `registry`. The lag
 * histogram samples with a libuv timer, by default every 10 ms: 100 wake-ups a second of an
 * otherwise idle process, a fixed share of the control plane's idle CPU (bench/README, "Idle
 * databases"). Every 100 ms still catches any stall long enough to matter.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: 100 });
}
