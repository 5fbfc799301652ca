import { defineProject } from 'vitest/config';

/**
 * The config of one package's tests. Projects do not inherit the root config, so each
 * package's vitest.config.ts is this one line. Tests run real servers on a machine that may be
 * loaded: generous limits (a hang still fails, just later).
 */
export function packageProject(name: string, timeoutMs = 30_000) {
  return defineProject({ test: { name, testTimeout: timeoutMs, hookTimeout: timeoutMs } });
}
