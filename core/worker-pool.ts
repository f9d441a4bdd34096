/**
 * The HTTP claim of a pooled worker (the Docker driver's pool; the process driver uses IPC):
 * GET renews the lease of an unclaimed worker, POST …/claim with `{ env }` gives it its
 * database and is answered `{ port }` once the worker listens. Both need the pool's secret.
 */
export const POOL_PATH = "/dbforge/v1/pool";
export const POOL_CLAIM_PATH = `${POOL_PATH}/claim`;

/**
 * A pooled worker's rehearsal directory (workers-image/src/rehearsal.ts), in its temporary
 * directory: this prefix, the worker's pid, "-", a random suffix. Removed by the worker, on exit
 * too; only a SIGKILL mid-rehearsal leaves one behind.
 */
export const REHEARSAL_DIR_PREFIX = "dbforge-rehearsal-";
