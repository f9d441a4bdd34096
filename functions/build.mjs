// Bundles the Node functions host into dist/functions/host.mjs (dependencies from node_modules).
import { build } from "esbuild";

await build({
  entryPoints: ["functions/host/main.ts"],
  outfile: "dist/functions/host.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
});
