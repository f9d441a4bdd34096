import { Gauge, Registry } from "prom-client";
import { expect, test } from "vitest";
import { prometheusText } from "./prometheus";

test("NaN samples are written as the format spells them", async () => {
  const registry = new Registry();
  const gauge = new Gauge({ name: "g", help: "a gauge", labelNames: ["k"], registers: [registry] });
  gauge.set({ k: "nan" }, Number.NaN);
  gauge.set({ k: "inf" }, Number.POSITIVE_INFINITY);
  gauge.set({ k: "one" }, 1);
  const lines = (await prometheusText(registry)).split("\n").filter((l) => l.startsWith("g{"));
  expect(lines).toEqual(['g{k="nan"} NaN', 'g{k="inf"} +Inf', 'g{k="one"} 1']);
});
