import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests/*'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
