// Bundles the dbforge CLI (which also runs the embedded stack: `dbforge start`) into
// dist/cli/dbforge.mjs; dependencies load from node_modules.
import { build } from "esbuild";

await build({
  entryPoints: ["cli/dbforge.ts"],
  outfile: "dist/cli/dbforge.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  packages: "external",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
