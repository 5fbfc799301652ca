// 2026-07-28 clients (SDK v2) of a 2025-11-25-only upstream (SDK v1) through the proxy's bridge:
// the upstream sessions it holds for them.

import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { textOf } from '../test-support.ts';
import { EraPeers } from './era-peers.ts';

const peers = new EraPeers();
let legacyUpstream: SdkServer | undefined;

afterEach(async () => {
  await peers.close();
  await legacyUpstream?.close();
  legacyUpstream = undefined;
});

describe('bridged upstream sessions', () => {
  it('are ended upstream (DELETE) once idle for sessionIdleTimeoutMs, never while in use', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'json' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25', {
      limits: { sessionIdleTimeoutMs: 200 },
    });
    const client = await peers.modernClient(endpoint);
    // A call that outlasts the idle limit several times over keeps its session.
    const slow = await client.callTool({ name: 'slow', arguments: { ms: 800 } });
    expect(textOf(slow)).toBe('slept 800 ms');
    expect(legacyUpstream.deleted).toEqual([]);
    const [sessionId] = legacyUpstream.seen.flatMap((s) => s.sessionId ?? []);
    // Then nothing: the idle limit ends it, with a DELETE.
    await legacyUpstream.waitForSessions(0);
    expect(legacyUpstream.deleted).toEqual([sessionId]);
    expect(peers.proxy?.context.bridged.size).toBe(0);
    // The client's next request opens a new one.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe(
      'again',
    );
    expect(legacyUpstream.sessionCount).toBe(1);
  });

  it('are capped by maxSessions: the least recently used is ended upstream', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'json' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25', {
      limits: { maxSessions: 1 },
    });
    const alice = await peers.modernClient(endpoint, { token: 'alice' });
    await alice.callTool({ name: 'echo', arguments: { text: 'a' } });
    const [aliceSession] = legacyUpstream.seen.flatMap((s) => s.sessionId ?? []);
    const bob = await peers.modernClient(endpoint, { token: 'bob' });
    await bob.callTool({ name: 'echo', arguments: { text: 'b' } });
    await legacyUpstream.waitForSessions(1);
    expect(legacyUpstream.deleted).toEqual([aliceSession]);
    expect(peers.proxy?.context.bridged.size).toBe(1);
  });
});
