// Bundles the control plane into dist/control-plane/main.mjs. Native and optional-heavy
// packages (libsql, dockerode) stay external and load from node_modules.
import { build } from "esbuild";

await build({
  entryPoints: ["control-plane/src/main.ts"],
  outfile: "dist/control-plane/main.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
});
