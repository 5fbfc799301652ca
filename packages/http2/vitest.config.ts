import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@mcp/http2',
    // Real servers on a loaded 2-core machine: generous limits (the root's are not inherited).
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
