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
    outfile: "dist/worker/worker.mjs",
    minify: true,
    // The engines are native addons, resolved at run time from node_modules (or the image's copy).
    external: ["libsql-stable", "libsql-linux-*"],
    // ws optionally loads native helpers through require; the pure JS fallbacks are fine.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
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
