import { engine } from "../../core/sqlite/index";

export const WORKER_VERSION = "0.1.0";

/** GET /version: like sqld's "sqld <version> (<commit> <date>)", naming the engine instead. */
export function workerVersion(): string {
  const { name, version } = engine();
  return `dbforge-worker ${WORKER_VERSION} (libsql-js ${version}, ${name} engine)`;
}
