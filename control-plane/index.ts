/**
 * The control plane's public entry, for embedding it in another process (`dbforge start`).
 * Nothing else of control-plane/ is imported from outside it (see README "Development").
 */

/** The memory settings every driver gives a worker (bench/ starts workers as the drivers do). */
export { memoryEnv } from "./src/drivers/types";
export { parseEnv as parseControlPlaneEnv } from "./src/env";
export { type RunningControlPlane, startControlPlane } from "./src/service";
