import { defineProject } from 'vitest/config';

/**
 * The release round trip (`pnpm --filter release-tests test:release`, a step of .ci/run): kept
 * out of `pnpm test` because it builds, publishes and installs for a minute or two.
 */
export default defineProject({
  test: {
    name: 'release',
    include: ['src/**/*.release.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
