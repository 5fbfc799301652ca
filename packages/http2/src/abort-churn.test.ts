import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWatched } from '../test/watchdog.ts';

const SCRIPT = fileURLToPath(new URL('../test/abort-churn.ts', import.meta.url));
/** A turning event loop prints a beat every 100 ms; this much silence means it is stuck. */
const SILENCE_MS = 2000;

describe('aborting requests whose body is still being sent', () => {
  it('never freezes the process through an Http2Connection', async () => {
    const run = await runWatched(SCRIPT, ['library', '--ms', '3000'], SILENCE_MS);
    expect(run.stderr).toBe('');
    expect(run.outcome).toBe('done');
    // RSS stays in the range of a working process (a frozen one climbs by hundreds of MB/s).
    expect(Math.max(...run.rssMb)).toBeLessThan(400);
  });

  // The upstream bug this package works around (docs/undici-h2-abort-freeze.md). When this
  // fails, undici no longer freezes: the workaround may go, and the bug report can be closed.
  it('undici 8.13.1 alone still freezes on the same pattern', async () => {
    const run = await runWatched(SCRIPT, ['undici', '--ms', '3000'], SILENCE_MS);
    expect(run.outcome).toBe('frozen');
  });
});
