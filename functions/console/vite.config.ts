import { resolve } from "node:path";
import { defineConfig } from "vite";

/** The web console: a static single-page app, built into dist/console and served by the functions. */
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  logLevel: "warn",
  // hono/jsx/dom: the same JSX as the server side, a few kB of runtime.
  esbuild: { jsx: "automatic", jsxImportSource: "hono/jsx/dom" },
  build: {
    outDir: resolve(import.meta.dirname, "../../dist/console"),
    emptyOutDir: true,
    target: "es2022",
  },
});
