/**
 * The HTTP claim of a pooled worker (the Docker driver's pool; the process driver uses IPC):
 * GET renews the lease of an unclaimed worker, POST …/claim with `{ env }` gives it its
 * database and is answered `{ port }` once the worker listens. Both need the pool's secret.
 */
export const POOL_PATH = "/dbforge/v1/pool";
export const POOL_CLAIM_PATH = `${POOL_PATH}/claim`;
