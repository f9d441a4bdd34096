import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const WORKER_VERSION = "0.1.0";

/** GET /version: like sqld's "sqld <version> (<commit> <date>)", naming the engine instead. */
export function workerVersion(): string {
  // libsql's package.json is not in its exports map, so read it next to its entry point.
  const entry = createRequire(import.meta.url).resolve("libsql");
  const pkg = JSON.parse(readFileSync(join(dirname(entry), "package.json"), "utf8")) as {
    version: string;
  };
  return `dbforge-worker ${WORKER_VERSION} (libsql-js ${pkg.version})`;
}
