// Bundles the worker into dist/worker/worker.mjs: one file plus the native libsql package, which
// is all the process driver and the container image need (no tsx at run time).
import { build } from "esbuild";

await build({
  entryPoints: ["workers-image/src/main.ts"],
  outfile: "dist/worker/worker.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  // The engine is a native addon; it is resolved from node_modules (or the image's copy).
  external: ["libsql", "libsql/*"],
  // ws optionally loads native helpers; the pure JS fallbacks are fine.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});
