/**
 * The functions' public entry for Node, for embedding them in another process (`dbforge
 * start`). Nothing else of functions/ is imported from outside it, but the generated API
 * client (functions/client).
 */
export { FUNCTIONS_SETTINGS } from "../lib/env";
export { type FunctionsHost, startFunctionsHost } from "./node";
