import { defineConfig } from 'vitest/config';

// Each package is a project with its own vitest.config.ts (see vitest.project.ts).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests/*'],
  },
});
