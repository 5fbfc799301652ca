import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultKind, type FaultServer, startFaultServer } from './fault-server.ts';
import {
  type Client,
  callTool,
  eventually,
  openClient,
  outcome,
  startProxyFor,
  within,
} from './harness.ts';

const REQUEST_TIMEOUT_MS = 1_500;

describe('upstream faults through the proxy', () => {
  let upstream: FaultServer;
  let proxy: Awaited<ReturnType<typeof startProxyFor>>;
  let bystander: Client;

  beforeAll(async () => {
    upstream = await startFaultServer();
    proxy = await startProxyFor(upstream.url, { limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS } });
    bystander = await openClient(proxy.endpoint);
  });
  afterAll(async () => {
    await bystander?.close();
    await proxy?.proxy.close();
    await upstream?.close();
  });

  // Each fault: the faulty call ends once, with an error, in time; calls beside it (same session
  // and another session) complete with their own data.
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
      const result = await within(REQUEST_TIMEOUT_MS + 5_000, fault, kind);
      expect(result.kind).not.toBe('result');
      expect(await Promise.all(sameSession)).toEqual(
        Array.from({ length: 5 }, (_, i) => ({ kind: 'result', text: `a${i}` })),
      );
      expect(await Promise.all(otherSession)).toEqual(
        Array.from({ length: 20 }, (_, i) => ({ kind: 'result', text: `b${i}` })),
      );
      if (kind === 'stall' || kind === 'endless') {
        // The proxy's timeout must reset the upstream stream, not leave it open.
        await eventually(
          () => upstream.cancelledStreams > cancelledBefore,
          5_000,
          'upstream reset',
        );
      }
      // The faulty session itself still works.
      expect(await outcome(callTool(faulty.connection, 'echo', { text: 'after' }))).toEqual({
        kind: 'result',
        text: 'after',
      });
    } finally {
      await faulty.close();
    }
  });

  it('GOAWAY under load: in-flight calls finish, later calls use a new connection', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => openClient(proxy.endpoint)));
    try {
      const before = upstream.connections;
      const calls = clients.flatMap((c, s) =>
        Array.from({ length: 25 }, (_, i) =>
          outcome(callTool(c.connection, 'slow', { ms: 300 })).then((o) => ({ s, i, o })),
        ),
      );
      await new Promise((r) => setTimeout(r, 100));
      upstream.goaway();
      const settled = await within(10_000, Promise.all(calls), 'calls after GOAWAY');
      for (const { o } of settled) expect(o).toEqual({ kind: 'result', text: 'done' });
      const later = await Promise.all(
        clients.map((c, i) => outcome(callTool(c.connection, 'echo', { text: `later${i}` }))),
      );
      expect(later.map((o) => o.kind)).toEqual(['result', 'result', 'result', 'result']);
      expect(upstream.connections).toBeGreaterThan(before);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('destroyed upstream sockets: in-flight calls end with an error, later calls succeed', async () => {
    const client = await openClient(proxy.endpoint);
    try {
      const calls = Array.from({ length: 30 }, () =>
        outcome(callTool(client.connection, 'slow', { ms: 2_000 })),
      );
      await new Promise((r) => setTimeout(r, 150));
      upstream.destroySockets();
      const settled = await within(REQUEST_TIMEOUT_MS + 5_000, Promise.all(calls), 'in-flight');
      for (const o of settled) expect(o.kind).not.toBe('result');
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

  it('a client that goes away cancels the upstream request', async () => {
    const client = await openClient(proxy.endpoint);
    try {
      const cancelledBefore = upstream.cancelledStreams;
      const notesBefore = upstream.cancelNotifications;
      const controller = new AbortController();
      const call = outcome(
        callTool(client.connection, 'slow', { ms: 10_000 }, { signal: controller.signal }),
      );
      await new Promise((r) => setTimeout(r, 200));
      controller.abort(new Error('user left'));
      expect(await within(2_000, call, 'aborted call')).toEqual({
        kind: 'typed-error',
        code: 'MCP_ABORTED',
      });
      await eventually(() => upstream.cancelledStreams > cancelledBefore, 5_000, 'upstream reset');
      await eventually(
        () => upstream.cancelNotifications > notesBefore,
        5_000,
        'notifications/cancelled upstream',
      );
      expect(await outcome(callTool(client.connection, 'echo', { text: 'still' }))).toEqual({
        kind: 'result',
        text: 'still',
      });
    } finally {
      await client.close();
    }
  });
});
