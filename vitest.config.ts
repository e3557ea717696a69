import { defineConfig } from 'vitest/config';

// `npm test` runs every suite against an embedded, in-memory PostgreSQL started once by
// test/global-setup.ts; with TEST_DATABASE_URL set it runs them against that real server.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
