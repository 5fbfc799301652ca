import { defineProject } from 'vitest/config';

// The proxy's tests run real servers end to end: generous limits for a loaded 2-core machine.
export default defineProject({
  test: { name: 'demo-proxy', testTimeout: 60_000, hookTimeout: 60_000 },
});
