// Bundles every function entry and the router worker as Workers modules
// (dist/functions/workers/*.mjs) for Miniflare. wrangler bundles functions/host/worker.ts itself.
import { resolve } from "node:path";
import { build } from "esbuild";
import { ROUTE_TABLE } from "./route-table";

const ROOT = resolve(import.meta.dirname, "..");
export const WORKERS_DIR = resolve(ROOT, "dist/functions/workers");

/** The deployed entries: one worker each. */
export const ENTRY_IDS = [...new Set(ROUTE_TABLE.map((r) => r.entry))];

export const workerFile = (id: string): string =>
  resolve(WORKERS_DIR, `${id.replace("/", "-")}.mjs`);

export async function buildWorkers(): Promise<void> {
  await build({
    entryPoints: [
      ...ENTRY_IDS.map((id) => ({
        in: resolve(ROOT, `functions/${id}.ts`),
        out: id.replace("/", "-"),
      })),
      { in: resolve(ROOT, "functions/host/router-worker.ts"), out: "router" },
    ],
    outdir: WORKERS_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    minify: true,
    logLevel: "warning",
  });
}
