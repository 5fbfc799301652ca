import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openSdkSession,
  type SdkSession,
  startDefaultProxy,
  startUpstream,
  textOf,
  type Upstream,
  type UpstreamKind,
  within,
} from './peers.ts';

/** Sessions per upstream, all open at once, each with its GET stream open. */
const SESSIONS = 64;
/** Sampling round trips at the same time. */
const SAMPLING = 16;
/** A bound on each step, so a hang fails with its name instead of at the test timeout. */
const STEP_MS = 60_000;

const UPSTREAMS: UpstreamKind[] = [
  'sdk-v1 sse (http/1.1)',
  'sdk-v1 json (http/1.1)',
  'sdk-v1 stateless (http/1.1)',
  'sdk-v2 (http/1.1)',
  'sdk-v1 legacy http+sse (http/1.1)',
  'sdk-v1 sse (h2c)',
  'sdk-v1 sse (tls h2)',
];

describe.each(UPSTREAMS)('official SDK clients -> proxy (default settings) -> %s', (kind) => {
  let upstream: Upstream;
  let proxy: Awaited<ReturnType<typeof startDefaultProxy>>;
  let sessions: SdkSession[] = [];

  beforeAll(async () => {
    upstream = await startUpstream(kind);
    proxy = await startDefaultProxy(upstream);
  });
  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => s.client.close()));
    await proxy?.close();
    await upstream?.close();
  });

  it(`${SESSIONS} concurrent sessions, each with its GET stream open`, async () => {
    const endpoint = `${proxy.url}/up/mcp`;
    sessions = await within(
      STEP_MS,
      Promise.all(Array.from({ length: SESSIONS }, () => openSdkSession(endpoint))),
      'opening the sessions',
    );
    await within(
      STEP_MS,
      Promise.all(sessions.map((s) => s.getStreamOpen)),
      'opening the GET streams',
    );
    // Upstream, every session has its stream too (the proxy's follows the client's).
    await upstream.waitForGetStreams?.(SESSIONS);
    if (upstream.stateful) await upstream.waitForSessions(SESSIONS);
  });

  it('tools/list and tools/call on every session', async () => {
    const results = await within(
      STEP_MS,
      Promise.all(
        sessions.map(async ({ client }, i) => {
          const { tools } = await client.listTools();
          const call = await client.callTool({ name: 'echo', arguments: { text: `s${i}` } });
          return { tools: tools.map((t) => t.name), text: textOf(call) };
        }),
      ),
      'tools/list and tools/call',
    );
    results.forEach((r, i) => {
      expect(r.tools).toContain('echo');
      expect(r.text).toBe(`s${i}`);
    });
  });

  // A stateless server cannot take an answer to its own request: the answer's POST reaches a new
  // transport that never asked. So the stateless upstream has no sampling test (not a skipped one).
  if (kind !== 'sdk-v1 stateless (http/1.1)')
    it(`${SAMPLING} sampling round trips at the same time`, async () => {
      const answers = await within(
        STEP_MS,
        Promise.all(
          sessions
            .slice(0, SAMPLING)
            .map(({ client }, i) =>
              client.callTool({ name: 'sample', arguments: { prompt: `q${i}` } }),
            ),
        ),
        'sampling',
      );
      expect(answers.map(textOf)).toEqual(
        Array.from({ length: SAMPLING }, (_, i) => `sampled: pong: q${i}`),
      );
    });

  it('a DELETE for each session ends it on both sides', async () => {
    await within(
      STEP_MS,
      Promise.all(sessions.map((s) => s.transport.terminateSession())),
      'DELETE',
    );
    expect(proxy.context.sessions.size).toBe(0);
    await upstream.waitForGetStreams?.(0);
    await upstream.waitForSessions(0);
  });
});

describe('sessions abandoned without DELETE (sdk-v1 sse over HTTP/1.1)', () => {
  // 100 users, each with its own credentials (one client may hold at most
  // sessions.maxSessionsPerClient sessions, 64 by default).
  it('after 100 abandoned sessions the proxy serves a new session at once', async () => {
    const upstream = await startUpstream('sdk-v1 sse (http/1.1)');
    const proxy = await startDefaultProxy(upstream);
    const endpoint = `${proxy.url}/up/mcp`;
    try {
      const abandoned = await within(
        STEP_MS,
        Promise.all(
          Array.from({ length: 100 }, (_, i) => openSdkSession(endpoint, `Bearer u${i}`)),
        ),
        'opening 100 sessions',
      );
      await within(STEP_MS, Promise.all(abandoned.map((s) => s.getStreamOpen)), 'GET streams');
      await upstream.waitForGetStreams?.(100);
      // The SDK's close() aborts the GET stream and sends no DELETE.
      await Promise.all(abandoned.map((s) => s.client.close()));
      // Their upstream streams close after the client's; the sessions themselves stay.
      await upstream.waitForGetStreams?.(0);
      await upstream.waitForSessions(100);

      const fresh = await within(15_000, openSdkSession(endpoint, 'Bearer new'), 'a new session');
      const echoed = await within(
        15_000,
        fresh.client.callTool({ name: 'echo', arguments: { text: 'at once' } }),
        'a call in the new session',
      );
      expect(textOf(echoed)).toBe('at once');
      await fresh.transport.terminateSession();
      await fresh.client.close();
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
