/**
 * The control plane's public entry, for embedding it in another process (`dbforge start`).
 * Nothing else of control-plane/ is imported from outside it (see README "Development").
 */
export { parseEnv as parseControlPlaneEnv } from "./src/env";
export { type RunningControlPlane, startControlPlane } from "./src/service";
