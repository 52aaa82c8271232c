import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The Docker end-to-end suite is its own script (npm run test:docker).
    exclude: ["test/docker/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
