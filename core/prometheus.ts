import type { Registry } from "prom-client";

/**
 * A registry's metrics in Prometheus's text format. prom-client 15 writes a NaN sample as
 * `Nan` (lib/util.js), which the format spells `NaN`: Prometheus itself reads either, stricter
 * parsers refuse the scrape. Default metrics are NaN until they have a sample (the event loop
 * lag's mean, right after start), so a scrape early in a process's life had one.
 */
export async function prometheusText(registry: Registry): Promise<string> {
  return (await registry.metrics()).replace(/ Nan$/gm, " NaN");
}
