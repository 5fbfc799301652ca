import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWatched } from '../test/watchdog.ts';

const SCRIPT = fileURLToPath(new URL('../test/abort-churn.ts', import.meta.url));
/**
 * A turning event loop prints a beat every 100 ms; a loaded CI box can delay beats by a second
 * or more, a frozen loop never beats again (and grows by 100-250 MB a second). A working churn
 * beats throughout, but its RSS reached 360-540 MB here (2,000 bodies of 96 KB a second, their
 * garbage collected late): so RSS past 450 MB counts only with a late beat, and past 1,200 MB
 * always.
 */
const LIMITS = { silenceMs: 5000, maxRssMb: 450, hardMaxRssMb: 1200 };
const TEST_TIMEOUT_MS = 60_000;

describe('aborting requests whose body is still being sent', () => {
  it(
    'never freezes the process through an Http2Connection',
    async () => {
      const run = await runWatched(SCRIPT, ['library', '--ms', '2000'], LIMITS);
      expect(run.stderr).toBe('');
      expect(run).toMatchObject({ outcome: 'done' });
    },
    TEST_TIMEOUT_MS,
  );

  // The upstream bug this package works around (docs/undici-h2-abort-freeze.md). When this
  // fails, undici no longer freezes: the workaround may go, and the bug report be closed.
  it(
    'undici 8.13.1 alone still freezes on the same pattern',
    async () => {
      const run = await runWatched(SCRIPT, ['undici', '--ms', '2000'], LIMITS);
      expect(run.outcome).toBe('frozen');
    },
    TEST_TIMEOUT_MS,
  );
});
