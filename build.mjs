// Bundles every DB-Forge program with esbuild, one file each in dist/ (no tsx at run time):
//   node build.mjs            all of them
//   node build.mjs worker     only the named ones
// The Workers bundles for Miniflare are built by functions/workers-build.ts; wrangler bundles
// functions/host/worker.ts itself; the console is built by Vite.
import { build } from "esbuild";

const node = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
};

export const BUNDLES = {
  // One file plus the native libsql package: all the process driver and the image need.
  worker: {
    entryPoints: ["workers-image/src/main.ts"],
    outfile: "dist/worker/worker.cjs",
    minify: true,
    // CommonJS, not ESM: a worker started from an ES module carries Node's ESM loader, and the
    // libuv threads it reads the module with, for its whole life: 0.3-0.5 MiB and 4 threads more
    // per database (bench/density.ts). Strict mode, as the sources are ES modules.
    format: "cjs",
    banner: {
      js: '"use strict"; const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
    },
    define: { "import.meta.url": "__importMetaUrl" },
    // The engines are native addons, resolved at run time from node_modules (or the image's copy).
    external: ["libsql-stable", "libsql-linux-*"],
  },
  "control-plane": {
    entryPoints: ["control-plane/src/main.ts"],
    outfile: "dist/control-plane/main.mjs",
    packages: "external",
  },
  functions: {
    entryPoints: ["functions/host/main.ts"],
    outfile: "dist/functions/host.mjs",
    packages: "external",
  },
  // The dbforge CLI, which also runs the embedded stack (`dbforge start`).
  cli: {
    entryPoints: ["cli/dbforge.ts"],
    outfile: "dist/cli/dbforge.mjs",
    packages: "external",
    banner: { js: "#!/usr/bin/env node" },
  },
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in BUNDLES)) throw new Error(`unknown bundle ${name}: ${Object.keys(BUNDLES)}`);
}
await Promise.all(
  Object.entries(BUNDLES)
    .filter(([name]) => wanted.length === 0 || wanted.includes(name))
    .map(([, options]) => build({ ...node, ...options })),
);
