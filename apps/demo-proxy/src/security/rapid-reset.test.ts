/**
 * HTTP/2 rapid reset through the proxy (issue #13, failed probe 1): POST initialize streams with
 * a body, reset at once, on 4 connections, twice. The proxy runs in a child process watched
 * from here, so a frozen event loop fails the test instead of hanging the suite.
 */
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, textOf } from '../test-support.ts';
import { rapidReset } from './attacks.ts';
import { startVictim, type Victim } from './victim-process.ts';

/** A turning event loop beats every 100 ms; a loaded CI box may delay that by seconds, not more. */
const MAX_SILENCE_MS = 5000;
/** Growth of the victim's RSS the attack may cause (a frozen nghttp2 session adds ~200 MB/s). */
const MAX_RSS_GROWTH_MB = 250;

describe('HTTP/2 rapid reset against the proxy', () => {
  let victim: Victim;

  beforeAll(async () => {
    // A lower burst than the default (200), so the flood a loaded CI box can produce reaches it.
    victim = await startVictim({ edge: { streamResetBurst: 20, streamResetsPerSecond: 5 } });
  });
  afterAll(async () => {
    await victim?.kill();
  });

  it('answers the flood with GOAWAY and stays responsive: health, a side session, bounded RSS', async () => {
    // A session opened before the attack, which must still work after it.
    const side = await connectClient(`${victim.url}/example/mcp`);
    for (let round = 1; round <= 2; round++) {
      const attack = await rapidReset(victim.url, { connections: 4, durationMs: 1500 });
      expect(attack.goaways, `round ${round}: ${attack.streams} streams`).toBeGreaterThan(0);
      expect(attack.goawayCodes).toContain(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      const health = await fetch(`${victim.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      expect(health.status).toBe(200);
      expect(victim.longestSilenceMs()).toBeLessThan(MAX_SILENCE_MS);
    }
    const echo = await side.callTool({ name: 'echo', arguments: { text: 'still here' } });
    expect(textOf(echo)).toBe('still here');
    await side.close();
    expect(victim.rss.peak - victim.rss.first).toBeLessThan(MAX_RSS_GROWTH_MB);
    console.log(
      `rapid reset: RSS before ${victim.rss.first} MB, peak ${victim.rss.peak} MB, after ${victim.rss.last} MB`,
    );
  }, 60_000);
});
