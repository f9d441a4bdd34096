import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**"],
    // Tests start real processes, servers and containers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
