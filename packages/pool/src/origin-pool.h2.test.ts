import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import type { Connection } from '@mcp/connection-core';
import { FIXTURE_TLS } from '@mcp/test-fixtures';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { echo, hold, initialize } from '../test/helpers.ts';
import { McpHttp2Server } from '../test/mcp-http2-server.ts';
import type { PoolConnectMessage } from './channels.ts';
import { OriginPool } from './origin-pool.ts';

async function openSessions(pool: OriginPool, url: string, n: number): Promise<Connection[]> {
  const sessions = await Promise.all(
    Array.from({ length: n }, (_, i) => pool.connection(url, { key: `s${i}` })),
  );
  await Promise.all(
    sessions.map(async (s) => {
      await initialize(s);
      await s.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }),
  );
  return sessions;
}

/** The next message published on a diagnostics channel. */
function nextMessage(name: string): Promise<unknown> {
  return new Promise((resolve) => {
    const listener = (message: unknown): void => {
      diagnosticsChannel.unsubscribe(name, listener);
      resolve(message);
    };
    diagnosticsChannel.subscribe(name, listener);
  });
}

describe('OriginPool over HTTP/2', () => {
  let server: McpHttp2Server;

  beforeEach(async () => {
    server = await new McpHttp2Server().listen();
  });
  afterEach(async () => {
    await server.close();
  });

  it('carry 10,000 concurrent requests of 100 sessions over maxConnectionsPerOrigin TCP connections', async () => {
    await using pool = new OriginPool({
      h2c: true,
      maxConnectionsPerOrigin: 2,
      maxConcurrentStreams: 100,
      // 200 stream slots: the other 9,800 requests wait their turn, however slow the machine.
      maxQueuedPerOrigin: 10_000,
      queueTimeoutMs: 120_000,
    });
    const sessions = await openSessions(pool, server.url, 100);
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        echo(sessions[i % sessions.length] as Connection, { i }),
      ),
    );
    const elapsedMs = performance.now() - started;
    expect(server.openServerStreams).toBe(0);
    expect(responses.every((r, i) => (r.result as { echo: { i: number } }).echo.i === i)).toBe(
      true,
    );
    expect(server.tcpConnections).toBeLessThanOrEqual(2);
    expect(server.h2Sessions).toBeLessThanOrEqual(2);
    // Per session: initialize, notifications/initialized, GET (405); then one per request.
    expect(server.streams).toBe(100 * 3 + 10_000);
    const stats = pool.stats();
    expect(stats.total.sessions).toBe(100);
    expect(stats.total.metrics.requests.succeeded).toBe(10_100);
    expect(stats.total.metrics.requests.inFlight).toBe(0);
    console.info(
      `10,000 requests over ${server.tcpConnections} TCP connections in ${elapsedMs.toFixed(0)} ms`,
    );
  }, 120_000);

  it('carry requests beside one open server stream per session', async () => {
    const streaming = await new McpHttp2Server({ serverStreams: true }).listen();
    try {
      await using pool = new OriginPool({
        h2c: true,
        maxConnectionsPerOrigin: 2,
        maxConcurrentStreams: 100,
        maxSessionsPerOrigin: 150,
      });
      // 150 GET streams stay open: 50 stream slots are left for requests.
      const sessions = await openSessions(pool, streaming.url, 150);
      await streaming.waitForServerStreams(150);
      const responses = await Promise.all(
        Array.from({ length: 3_000 }, (_, i) => echo(sessions[i % 150] as Connection, { i })),
      );
      expect(responses).toHaveLength(3_000);
      expect(streaming.tcpConnections).toBe(2);
      expect(pool.stats().origins[0]).toMatchObject({ connected: 2, running: 150, sessions: 150 });
      await pool.close();
      expect(streaming.deletes).toBe(150);
    } finally {
      await streaming.close();
    }
  }, 60_000);

  it('end every server session with DELETE on close, then close the TCP connections', async () => {
    const pool = new OriginPool({ h2c: true });
    const sessions = await openSessions(pool, server.url, 5);
    expect(await pool.connection(server.url, { key: 's0' })).toBe(sessions[0]);
    expect(server.mcpSessions.size).toBe(5);
    await pool.close();
    expect(server.deletes).toBe(5);
    expect(server.mcpSessions.size).toBe(0);
    expect(sessions.every((s) => s.closed)).toBe(true);
    await server.waitForOpenSessions(0);
  });

  it('replace a session the server has forgotten', async () => {
    await using pool = new OriginPool({ h2c: true });
    const [first] = await openSessions(pool, server.url, 1);
    server.mcpSessions.clear();
    await expect(echo(first as Connection)).rejects.toMatchObject({ code: 'MCP_SESSION_EXPIRED' });
    const [second] = await openSessions(pool, server.url, 1);
    expect(second).not.toBe(first);
    expect(first?.closed).toBe(true);
    expect((await echo(second as Connection, { n: 2 })).result).toEqual({ echo: { n: 2 } });
  });

  it('keep a session that re-initializes itself (reinitialize: true)', async () => {
    await using pool = new OriginPool({ h2c: true });
    const first = await pool.connection(server.url, { reinitialize: true });
    await initialize(first);
    await first.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
    server.mcpSessions.clear();
    expect((await echo(first, { n: 3 })).result).toEqual({ echo: { n: 3 } });
    expect(await pool.connection(server.url, { reinitialize: true })).toBe(first);
  });

  it('report streams in flight and requests waiting for a stream', async () => {
    await using pool = new OriginPool({
      h2c: true,
      maxConnectionsPerOrigin: 1,
      maxConcurrentStreams: 10,
    });
    const [session] = await openSessions(pool, server.url, 1);
    const held = Array.from({ length: 15 }, () => hold(session as Connection));
    await server.waitForHeld(10);
    const stats = pool.stats();
    const origin = stats.origins[0];
    expect(origin).toMatchObject({ connected: 1, free: 0, running: 10, sessions: 1 });
    expect(origin?.pending).toBe(5);
    expect(stats.total.metrics.requests.inFlight).toBe(15);
    server.releaseHeld();
    await server.waitForHeld(5);
    server.releaseHeld();
    await Promise.all(held);
    expect(pool.stats().origins[0]).toMatchObject({ running: 0, pending: 0, queued: 0 });
  });

  it('close idle TCP connections after idleTimeoutMs and reconnect on the next request', async () => {
    await using pool = new OriginPool({ h2c: true, idleTimeoutMs: 300 });
    const [session] = await openSessions(pool, server.url, 1);
    await echo(session as Connection);
    expect(server.tcpConnections).toBe(1);
    await server.waitForOpenSessions(0);
    expect(pool.stats().origins[0]?.connected).toBe(0);
    expect(session?.closed).toBe(false);
    await echo(session as Connection);
    expect(server.tcpConnections).toBe(2);
  });

  it('forget an origin with no session and no TCP connection left, unless its dispatcher was handed out', async () => {
    await using pool = new OriginPool({ h2c: true, idleTimeoutMs: 200 });
    const [session] = await openSessions(pool, server.url, 1);
    const disconnected = nextMessage('mcp:pool:disconnect');
    await session?.close();
    await disconnected;
    expect(pool.stats().origins).toHaveLength(0);
    // A later call starts over with a new dispatcher.
    const [again] = await openSessions(pool, server.url, 1);
    expect(again).not.toBe(session);
    const dispatcher = pool.dispatcher(server.url);
    await again?.close();
    await server.waitForOpenSessions(0);
    expect(pool.dispatcher(server.url)).toBe(dispatcher);
    expect(pool.stats().origins).toHaveLength(1);
  });

  it('keep a TCP connection with a request in flight past idleTimeoutMs', async () => {
    await using pool = new OriginPool({ h2c: true, idleTimeoutMs: 200 });
    const [session] = await openSessions(pool, server.url, 1);
    const held = hold(session as Connection);
    await server.waitForHeld(1);
    // A second connection's idle timer runs out meanwhile: proof that time has passed.
    await using probe = new OriginPool({ h2c: true, idleTimeoutMs: 400 });
    await openSessions(probe, server.url, 1);
    await server.waitForOpenSessions(1);
    server.releaseHeld();
    await held;
    expect(server.tcpConnections).toBe(2);
    await server.waitForOpenSessions(0);
  });

  it('recover from a GOAWAY: requests in flight finish, later ones use a new connection', async () => {
    await using pool = new OriginPool({ h2c: true });
    const sessions = await openSessions(pool, server.url, 4);
    const held = sessions.map((s) => hold(s));
    await server.waitForHeld(4);
    server.goAwayAll();
    server.releaseHeld();
    await Promise.all(held);
    const responses = await Promise.all(sessions.map((s) => echo(s, { after: 'goaway' })));
    expect(responses.map((r) => r.result)).toEqual(
      sessions.map(() => ({ echo: { after: 'goaway' } })),
    );
    expect(server.tcpConnections).toBe(2);
    await server.waitForOpenSessions(1);
  });

  it('recover from a GOAWAY while server streams stay open on the old connection', async () => {
    const streaming = await new McpHttp2Server({ serverStreams: true }).listen();
    try {
      await using pool = new OriginPool({ h2c: true });
      const sessions = await openSessions(pool, streaming.url, 4);
      await streaming.waitForServerStreams(4);
      const held = sessions.map((s) => hold(s));
      await streaming.waitForHeld(4);
      streaming.goAwayAll();
      streaming.releaseHeld();
      await Promise.all(held);
      // The GET streams go on on the old connection; every later request must get a new one
      // (undici alone leaves one of them waiting for those streams to end).
      const responses = await Promise.all(sessions.map((s) => echo(s, { after: 'goaway' })));
      expect(responses.map((r) => r.result)).toEqual(
        sessions.map(() => ({ echo: { after: 'goaway' } })),
      );
      expect(streaming.tcpConnections).toBe(2);
    } finally {
      await streaming.close();
    }
  });

  it('recover from a bare GOAWAY frame (the server keeps the socket open)', async () => {
    await using pool = new OriginPool({ h2c: true });
    const sessions = await openSessions(pool, server.url, 2);
    for (let round = 1; round <= 3; round++) {
      server.goAwayRaw();
      const responses = await Promise.all(sessions.map((s) => echo(s, { round })));
      expect(responses.map((r) => r.result)).toEqual(sessions.map(() => ({ echo: { round } })));
    }
    expect(server.tcpConnections).toBe(4);
    expect(pool.stats().origins[0]?.connected).toBe(1);
  });

  it('recover from a destroyed socket: later requests succeed on a new connection', async () => {
    await using pool = new OriginPool({ h2c: true });
    const sessions = await openSessions(pool, server.url, 4);
    const held = sessions.map((s) => hold(s));
    await server.waitForHeld(4);
    server.destroySockets();
    const failed = await Promise.allSettled(held);
    expect(failed.every((r) => r.status === 'rejected')).toBe(true);
    expect(failed.map((r) => (r.status === 'rejected' ? r.reason.code : ''))).toEqual(
      sessions.map(() => 'MCP_TRANSPORT'),
    );
    const responses = await Promise.all(sessions.map((s) => echo(s, { after: 'reset' })));
    expect(responses).toHaveLength(4);
    expect(server.tcpConnections).toBe(2);
  });

  it('publish TCP connects and disconnects on diagnostics channels', async () => {
    const events: string[] = [];
    const onConnect = (message: unknown): void => {
      events.push(`connect ${(message as PoolConnectMessage).connected}`);
    };
    const onDisconnect = (message: unknown): void => {
      events.push(`disconnect ${(message as PoolConnectMessage).connected}`);
    };
    diagnosticsChannel.subscribe('mcp:pool:connect', onConnect);
    diagnosticsChannel.subscribe('mcp:pool:disconnect', onDisconnect);
    try {
      await using pool = new OriginPool({ h2c: true, idleTimeoutMs: 200 });
      const disconnected = nextMessage('mcp:pool:disconnect');
      await openSessions(pool, server.url, 1);
      await disconnected;
      expect(events).toEqual(['connect 1', 'disconnect 0']);
    } finally {
      diagnosticsChannel.unsubscribe('mcp:pool:connect', onConnect);
      diagnosticsChannel.unsubscribe('mcp:pool:disconnect', onDisconnect);
    }
  });
});

describe('OriginPool over HTTP/2 with TLS', () => {
  const tls = { key: FIXTURE_TLS.key, cert: FIXTURE_TLS.cert };

  it('negotiate HTTP/2 by ALPN and multiplex sessions over one connection', async () => {
    const server = await new McpHttp2Server({ tls }).listen();
    try {
      await using pool = new OriginPool({
        maxConnectionsPerOrigin: 1,
        tls: { ca: tls.cert },
      });
      const sessions = await openSessions(pool, server.url, 10);
      await Promise.all(sessions.flatMap((s) => [echo(s), echo(s)]));
      expect(server.tcpConnections).toBe(1);
      // Per session: initialize, notifications/initialized, the GET for a server stream (405).
      expect(server.streams).toBe(10 * 3 + 20);
    } finally {
      await server.close();
    }
  });

  it('refuse a server whose certificate is not trusted', async () => {
    const server = await new McpHttp2Server({ tls }).listen();
    try {
      await using pool = new OriginPool({});
      const session = await pool.connection(server.url);
      await expect(initialize(session)).rejects.toMatchObject({ code: 'MCP_TRANSPORT' });
    } finally {
      await server.close();
    }
  });
});

describe('OriginPool keep-alive', () => {
  it('send HTTP/2 PINGs every pingIntervalMs', async () => {
    const server = await new McpHttp2Server().listen();
    try {
      await using pool = new OriginPool({ h2c: true, pingIntervalMs: 300 });
      const pinged = once(server, 'ping');
      await openSessions(pool, server.url, 1);
      await pinged;
      expect(server.pings).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
});
