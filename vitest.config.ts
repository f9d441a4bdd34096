import { defineConfig } from "vitest/config";

/**
 * The suites that prove the worker's guarantees run twice: on the engine chosen automatically
 * (the pre-release where it loads) and on the stable engine, forced, as it runs on macOS, Linux
 * arm64 and Windows (README "Supported platforms").
 */
const ON_BOTH_ENGINES = [
  "workers-image/src/**/*.test.ts",
  "workers-image/test/{auth,durability,hrana-http,hrana-ws,libsql-client,memory,quota-usage,dump,safety,single-worker,stream-limits,wal-archive}.test.ts",
  "functions/test/isolation/escape.test.ts",
];

export default defineConfig({
  test: {
    exclude: ["node_modules/**", "dist/**"],
    // Tests start real processes, servers and containers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "auto-engine", include: ["**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "stable-engine",
          include: ON_BOTH_ENGINES,
          env: { DBFORGE_ENGINE: "stable" },
        },
      },
    ],
  },
});
