import { MCP_HEADERS } from 'demo-proxy/src/test-support.ts';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultKind, type FaultServer, startFaultServer } from './fault-server.ts';
import {
  type Client,
  callTool,
  nextServerMessage,
  type Outcome,
  openClient,
  outcome,
  startProxyFor,
  until,
  within,
} from './harness.ts';

const REQUEST_TIMEOUT_MS = 1_500;

const BAD_GATEWAY: Outcome = { kind: 'typed-error', code: 'MCP_HTTP_STATUS' };
const TIMED_OUT: Outcome = { kind: 'rpc-error', code: -32001 };

/** What each fault may give the caller, through the proxy. */
const EXPECTED: Record<FaultKind, Outcome[]> = {
  // The proxy answers 502 with a JSON-RPC error body; our client reports the status.
  reset: [BAD_GATEWAY],
  'malformed-json': [BAD_GATEWAY],
  'malformed-sse': [BAD_GATEWAY],
  'wrong-content-type': [BAD_GATEWAY],
  'http-500': [BAD_GATEWAY],
  // The proxy's own timeout: a JSON-RPC error -32001.
  stall: [TIMED_OUT],
  endless: [TIMED_OUT],
  // 502 once past 16 MiB; on a loaded machine, reading that far can outlast the timeout.
  huge: [BAD_GATEWAY, TIMED_OUT],
};

describe('upstream faults through the proxy (GET streams open on both sides)', () => {
  let upstream: FaultServer;
  let proxy: Awaited<ReturnType<typeof startProxyFor>>;
  let bystander: Client;

  beforeAll(async () => {
    upstream = await startFaultServer();
    proxy = await startProxyFor(upstream.url, { limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS } });
    bystander = await openClient(proxy.endpoint);
    await until(upstream.events, 'get-open', () => upstream.openGetStreams === 1, 'upstream GET');
  });
  afterAll(async () => {
    await bystander?.close();
    await proxy?.proxy.close();
    await upstream?.close();
  });

  /** A notification sent upstream on the bystander's GET stream reaches the bystander. */
  async function serverStreamStillRelays(text: string): Promise<void> {
    const received = nextServerMessage(bystander, `notification "${text}" on the GET stream`);
    expect(await outcome(callTool(bystander.connection, 'notify', { text }))).toEqual({
      kind: 'result',
      text: 'sent',
    });
    expect(await received).toMatchObject({
      method: 'notifications/message',
      params: { data: text },
    });
  }

  it('relays a server notification from the upstream GET stream to the client', async () => {
    await serverStreamStillRelays('hello');
  });

  // Each fault: the faulty call ends once, with the documented error, in time; calls beside it
  // (same session and another session) complete with their own data, and the GET stream relays.
  it.each<[FaultKind]>([
    ['reset'],
    ['malformed-json'],
    ['malformed-sse'],
    ['wrong-content-type'],
    ['http-500'],
    ['stall'],
    ['endless'],
    ['huge'],
  ])('%s: the call fails cleanly and nothing else is disturbed', async (kind) => {
    const faulty = await openClient(proxy.endpoint);
    try {
      const cancelledBefore = upstream.cancelledStreams;
      const fault = outcome(callTool(faulty.connection, 'fault', { kind }));
      const sameSession = Array.from({ length: 5 }, (_, i) =>
        outcome(callTool(faulty.connection, 'echo', { text: `a${i}` })),
      );
      const otherSession = Array.from({ length: 20 }, (_, i) =>
        outcome(callTool(bystander.connection, 'echo', { text: `b${i}` })),
      );
      expect(EXPECTED[kind]).toContainEqual(await within(REQUEST_TIMEOUT_MS + 5_000, fault, kind));
      expect(await Promise.all(sameSession)).toEqual(
        Array.from({ length: 5 }, (_, i) => ({ kind: 'result', text: `a${i}` })),
      );
      expect(await Promise.all(otherSession)).toEqual(
        Array.from({ length: 20 }, (_, i) => ({ kind: 'result', text: `b${i}` })),
      );
      if (kind === 'stall' || kind === 'endless') {
        // The proxy's timeout must reset the upstream stream, not leave it open.
        await until(
          upstream.events,
          'cancelled-stream',
          () => upstream.cancelledStreams > cancelledBefore,
          'the upstream stream of the timed-out call was not reset',
        );
      }
      // The faulty session itself still works, and the bystander's GET stream still relays.
      expect(await outcome(callTool(faulty.connection, 'echo', { text: 'after' }))).toEqual({
        kind: 'result',
        text: 'after',
      });
      await serverStreamStillRelays(`after ${kind}`);
    } finally {
      await faulty.close();
    }
  });

  it('GOAWAY under load: in-flight calls finish, later calls use a new connection', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => openClient(proxy.endpoint)));
    try {
      const before = upstream.connections;
      const calls = clients.flatMap((c) =>
        Array.from({ length: 25 }, () => outcome(callTool(c.connection, 'hold'))),
      );
      await until(upstream.events, 'held', () => upstream.held === 100, '100 calls held upstream');
      upstream.goaway();
      upstream.releaseHeld();
      const settled = await within(10_000, Promise.all(calls), 'calls after GOAWAY');
      for (const o of settled) expect(o).toEqual({ kind: 'result', text: 'released' });
      const later = await Promise.all(
        clients.map((c, i) => outcome(callTool(c.connection, 'echo', { text: `later${i}` }))),
      );
      expect(later.map((o) => o.kind)).toEqual(['result', 'result', 'result', 'result']);
      expect(upstream.connections).toBeGreaterThan(before);
      await serverStreamStillRelays('after GOAWAY');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('destroyed upstream sockets: in-flight calls end with an error, later calls succeed', async () => {
    const client = await openClient(proxy.endpoint);
    try {
      const calls = Array.from({ length: 30 }, () => outcome(callTool(client.connection, 'hold')));
      await until(upstream.events, 'held', () => upstream.held === 30, '30 calls held upstream');
      upstream.destroySockets();
      const settled = await within(REQUEST_TIMEOUT_MS + 5_000, Promise.all(calls), 'in-flight');
      for (const o of settled) expect(o).toEqual({ kind: 'typed-error', code: 'MCP_HTTP_STATUS' });
      upstream.releaseHeld(); // their streams are gone: nothing to answer
      const later = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          outcome(callTool(client.connection, 'echo', { text: `x${i}` })),
        ),
      );
      expect(later).toEqual(
        Array.from({ length: 10 }, (_, i) => ({ kind: 'result', text: `x${i}` })),
      );
    } finally {
      await client.close();
    }
  });

  const counters = () => ({
    streams: upstream.cancelledStreams,
    notes: upstream.cancelNotifications,
  });

  /**
   * Since `before`: the held call's upstream stream was reset and notifications/cancelled went
   * upstream; the client's session still works.
   */
  async function cancelledUpstream(
    client: Client,
    before: ReturnType<typeof counters>,
  ): Promise<void> {
    await until(
      upstream.events,
      'cancelled-stream',
      () => upstream.cancelledStreams > before.streams,
      'the upstream stream was not reset',
    );
    await until(
      upstream.events,
      'cancel-notification',
      () => upstream.cancelNotifications > before.notes,
      'no notifications/cancelled reached the upstream',
    );
    upstream.releaseHeld();
    expect(await outcome(callTool(client.connection, 'echo', { text: 'still' }))).toEqual({
      kind: 'result',
      text: 'still',
    });
  }

  it('a client that aborts (stream reset and notifications/cancelled) cancels the upstream request', async () => {
    const client = await openClient(proxy.endpoint);
    try {
      const before = counters();
      const controller = new AbortController();
      const call = outcome(callTool(client.connection, 'hold', {}, { signal: controller.signal }));
      await until(upstream.events, 'held', () => upstream.held === 1, 'the call held upstream');
      controller.abort(new Error('user left'));
      expect(await within(2_000, call, 'aborted call')).toEqual({
        kind: 'typed-error',
        code: 'MCP_ABORTED',
      });
      await cancelledUpstream(client, before);
    } finally {
      await client.close();
    }
  });

  it('a client that hangs up without notifications/cancelled cancels the upstream request', async () => {
    const client = await openClient(proxy.endpoint);
    // A raw HTTP/2 request in the client's session: aborting it only resets its stream.
    const agent = new Agent({ allowH2: true, useH2c: true } as Agent.Options);
    try {
      const before = counters();
      const controller = new AbortController();
      const call = request(proxy.endpoint, {
        method: 'POST',
        dispatcher: agent,
        signal: controller.signal,
        headers: { ...MCP_HEADERS, 'mcp-session-id': client.connection.sessionId ?? '' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'raw-1',
          method: 'tools/call',
          params: { name: 'hold', arguments: {} },
        }),
      });
      await until(upstream.events, 'held', () => upstream.held === 1, 'the call held upstream');
      controller.abort();
      await expect(call).rejects.toThrow();
      // The proxy saw the hang-up itself: it resets the upstream stream and, as a client of the
      // upstream, tells it with notifications/cancelled (the downstream client sent none).
      await cancelledUpstream(client, before);
    } finally {
      await agent.close();
      await client.close();
    }
  });
});
