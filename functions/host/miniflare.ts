/**
 * The functions in one Miniflare instance: a worker per entry (each its own bundle and
 * isolate) and the router worker in front, dispatching through service bindings.
 */
import { Miniflare } from "miniflare";
import { bindingOf } from "../route-table";
import { buildWorkers, ENTRY_IDS, workerFile } from "../workers-build";
import { directoryAssets } from "./static-assets";

const COMPATIBILITY_DATE = "2026-04-01";

export interface MiniflareFunctions {
  url: string;
  close(): Promise<void>;
}

export async function startMiniflareFunctions(
  bindings: Record<string, string>,
  options: { port?: number; consoleDir?: string } = {},
): Promise<MiniflareFunctions> {
  await buildWorkers();
  const assets = options.consoleDir ? directoryAssets(options.consoleDir) : undefined;
  const workerName = (id: string) => id.replace("/", "-");
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: options.port ?? 0,
    workers: [
      {
        name: "router",
        modules: true,
        scriptPath: workerFile("router"),
        compatibilityDate: COMPATIBILITY_DATE,
        serviceBindings: Object.fromEntries(ENTRY_IDS.map((id) => [bindingOf(id), workerName(id)])),
      },
      ...ENTRY_IDS.map((id) => ({
        name: workerName(id),
        modules: true,
        scriptPath: workerFile(id),
        compatibilityDate: COMPATIBILITY_DATE,
        bindings,
        // The console's static files, as the Workers ASSETS binding would serve them.
        ...(id === "system/console" && assets
          ? { serviceBindings: { ASSETS: (request: Request) => assets.fetch(request) } }
          : {}),
      })),
    ],
  });
  const url = await mf.ready;
  return { url: url.origin, close: () => mf.dispose() };
}
