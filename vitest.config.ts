import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['node_app/**/*.test.ts', 'node_app/**/*.test.tsx', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
