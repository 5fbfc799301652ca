import { defineProject } from 'vitest/config';

/**
 * The config of one package's tests. Projects do not inherit the root config, so each
 * package's vitest.config.ts is this one line. Tests run real servers on a machine that may be
 * loaded: generous limits (a hang still fails, just later). `expect.poll` (how tests wait for a
 * server-side counter) gives up after 10 s, not vitest's 1 s.
 */
export function packageProject(name: string, timeoutMs = 30_000) {
  return defineProject({
    test: {
      name,
      testTimeout: timeoutMs,
      hookTimeout: timeoutMs,
      expect: { poll: { timeout: 10_000, interval: 20 } },
    },
  });
}
