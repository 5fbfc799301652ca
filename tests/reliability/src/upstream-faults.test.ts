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

/** What each fault gives the caller, through the proxy. */
const EXPECTED: Record<FaultKind, Outcome> = {
  // The proxy answers 502 with a JSON-RPC error body; our client reports the status.
  reset: BAD_GATEWAY,
  'malformed-json': BAD_GATEWAY,
  'malformed-sse': BAD_GATEWAY,
  'wrong-content-type': BAD_GATEWAY,
  'http-500': BAD_GATEWAY,
  huge: BAD_GATEWAY, // past @mcp/http2's 16 MiB limit
  // The proxy's own timeout: a JSON-RPC error -32001.
  stall: TIMED_OUT,
  endless: TIMED_OUT,
};

/**
 * A fault server behind the proxy (`requestTimeoutMs`), with a bystander session whose GET
 * stream is open on both sides. Its fields are set before the tests run.
 */
function faultBench(requestTimeoutMs: number) {
  const bench = {} as {
    upstream: FaultServer;
    proxy: Awaited<ReturnType<typeof startProxyFor>>;
    bystander: Client;
  };
  beforeAll(async () => {
    bench.upstream = await startFaultServer();
    bench.proxy = await startProxyFor(bench.upstream.url, { limits: { requestTimeoutMs } });
    bench.bystander = await openClient(bench.proxy.endpoint);
    const { upstream } = bench;
    await until(upstream.events, 'get-open', () => upstream.openGetStreams === 1, 'upstream GET');
  });
  afterAll(async () => {
    await bench.bystander?.close();
    await bench.proxy?.proxy.close();
    await bench.upstream?.close();
  });
  return bench;
}

/** A notification sent upstream on the bystander's GET stream reaches the bystander. */
async function serverStreamStillRelays(bystander: Client, text: string): Promise<void> {
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

/**
 * The faulty call ends once, with the documented error, in time; calls beside it (same session
 * and another session) complete with their own data, and the bystander's GET stream relays.
 */
async function faultIsContained(
  bench: ReturnType<typeof faultBench>,
  kind: FaultKind,
  timeoutMs: number,
): Promise<void> {
  const { upstream, proxy, bystander } = bench;
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
    expect(await within(timeoutMs + 5_000, fault, kind)).toEqual(EXPECTED[kind]);
    expect(await Promise.all(sameSession)).toEqual(
      Array.from({ length: 5 }, (_, i) => ({ kind: 'result', text: `a${i}` })),
    );
    expect(await Promise.all(otherSession)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ kind: 'result', text: `b${i}` })),
    );
    if (EXPECTED[kind] === TIMED_OUT) {
      // The proxy's timeout must reset the upstream stream, not leave it open.
      await until(
        upstream.events,
        'cancelled-stream',
        () => upstream.cancelledStreams > cancelledBefore,
        'the upstream stream of the timed-out call was not reset',
      );
    }
    // The faulty session itself still works.
    expect(await outcome(callTool(faulty.connection, 'echo', { text: 'after' }))).toEqual({
      kind: 'result',
      text: 'after',
    });
    await serverStreamStillRelays(bystander, `after ${kind}`);
  } finally {
    await faulty.close();
  }
}

describe('a huge answer through the proxy', () => {
  // 20 MiB on a shared upstream connection takes seconds to read on a loaded machine; calls
  // beside it wait for it, so this proxy's timeout leaves room for that (and the 502 comes first).
  const bench = faultBench(15_000);
  it('huge: the call fails with 502 past the size limit and nothing else is disturbed', async () => {
    await faultIsContained(bench, 'huge', 15_000);
  });
});

describe('upstream faults through the proxy (GET streams open on both sides)', () => {
  const bench = faultBench(REQUEST_TIMEOUT_MS);

  it('relays a server notification from the upstream GET stream to the client', async () => {
    await serverStreamStillRelays(bench.bystander, 'hello');
  });

  it.each<[FaultKind]>([
    ['reset'],
    ['malformed-json'],
    ['malformed-sse'],
    ['wrong-content-type'],
    ['http-500'],
    ['stall'],
    ['endless'],
  ])('%s: the call fails cleanly and nothing else is disturbed', async (kind) => {
    await faultIsContained(bench, kind, REQUEST_TIMEOUT_MS);
  });

  // The GET streams stay open on the old connection after the GOAWAY: the later calls must not
  // wait for them (an undici defect the pool works around; see origin-pools.ts).
  it('GOAWAY under load: in-flight calls finish, later calls use a new connection', async () => {
    const clients = await Promise.all(
      Array.from({ length: 4 }, () => openClient(bench.proxy.endpoint)),
    );
    try {
      const before = bench.upstream.connections;
      const calls = clients.flatMap((c) =>
        Array.from({ length: 25 }, () => outcome(callTool(c.connection, 'hold'))),
      );
      await until(
        bench.upstream.events,
        'held',
        () => bench.upstream.held === 100,
        '100 calls held upstream',
      );
      bench.upstream.goaway();
      bench.upstream.releaseHeld();
      const settled = await within(10_000, Promise.all(calls), 'calls after GOAWAY');
      for (const o of settled) expect(o).toEqual({ kind: 'result', text: 'released' });
      const later = await Promise.all(
        clients.map((c, i) => outcome(callTool(c.connection, 'echo', { text: `later${i}` }))),
      );
      expect(later).toEqual(clients.map((_, i) => ({ kind: 'result', text: `later${i}` })));
      expect(bench.upstream.connections).toBeGreaterThan(before);
      await serverStreamStillRelays(bench.bystander, 'after GOAWAY');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('destroyed upstream sockets: in-flight calls end with an error, later calls succeed', async () => {
    const client = await openClient(bench.proxy.endpoint);
    try {
      const calls = Array.from({ length: 30 }, () => outcome(callTool(client.connection, 'hold')));
      await until(
        bench.upstream.events,
        'held',
        () => bench.upstream.held === 30,
        '30 calls held upstream',
      );
      bench.upstream.destroySockets();
      const settled = await within(REQUEST_TIMEOUT_MS + 5_000, Promise.all(calls), 'in-flight');
      for (const o of settled) expect(o).toEqual({ kind: 'typed-error', code: 'MCP_HTTP_STATUS' });
      bench.upstream.releaseHeld(); // their streams are gone: nothing to answer
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
    streams: bench.upstream.cancelledStreams,
    notes: bench.upstream.cancelNotifications,
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
      bench.upstream.events,
      'cancelled-stream',
      () => bench.upstream.cancelledStreams > before.streams,
      'the upstream stream was not reset',
    );
    await until(
      bench.upstream.events,
      'cancel-notification',
      () => bench.upstream.cancelNotifications > before.notes,
      'no notifications/cancelled reached the upstream',
    );
    bench.upstream.releaseHeld();
    expect(await outcome(callTool(client.connection, 'echo', { text: 'still' }))).toEqual({
      kind: 'result',
      text: 'still',
    });
  }

  it('a client that aborts (stream reset and notifications/cancelled) cancels the upstream request', async () => {
    const client = await openClient(bench.proxy.endpoint);
    try {
      const before = counters();
      const controller = new AbortController();
      const call = outcome(callTool(client.connection, 'hold', {}, { signal: controller.signal }));
      await until(
        bench.upstream.events,
        'held',
        () => bench.upstream.held === 1,
        'the call held upstream',
      );
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
    const client = await openClient(bench.proxy.endpoint);
    // A raw HTTP/2 request in the client's session: aborting it only resets its stream.
    const agent = new Agent({ allowH2: true, useH2c: true } as Agent.Options);
    try {
      const before = counters();
      const controller = new AbortController();
      const call = request(bench.proxy.endpoint, {
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
      await until(
        bench.upstream.events,
        'held',
        () => bench.upstream.held === 1,
        'the call held upstream',
      );
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
