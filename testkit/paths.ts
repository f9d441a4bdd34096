/** Where the tests find the repository and what `npm run build` puts in dist/. */
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, "..");
/** The bundled worker, run exactly as the process driver and the image run it. */
export const WORKER_BUNDLE = join(ROOT, "dist/worker/worker.cjs");
/** The bundled control plane. */
export const CONTROL_PLANE_BUNDLE = join(ROOT, "dist/control-plane/main.mjs");
/** The bundled `dbforge` command. */
export const CLI_BUNDLE = join(ROOT, "dist/cli/dbforge.mjs");
/** The built console (static files the functions hosts serve). */
export const CONSOLE_DIR = join(ROOT, "dist/console");
/** Where tests leave files for a human to look at (screenshots, fuzz failures). */
export const ARTIFACTS_DIR = join(ROOT, "test-artifacts");
