import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginPool } from './origin-pool.ts';

/**
 * An HTTP/2 server that holds every stream until `release` of them are open at once, then
 * answers them all: a request only completes if the client had them all in flight together.
 * It counts TCP connections and the peak of streams open at once.
 */
async function startHoldingServer(release: number, settings: http2.Settings = {}) {
  let open = 0;
  let peak = 0;
  let connections = 0;
  const held: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer({ settings });
  server.on('connection', () => connections++);
  server.on('stream', (stream) => {
    open++;
    peak = Math.max(peak, open);
    stream.on('close', () => open--);
    stream.resume();
    held.push(stream);
    if (held.length < release) return;
    for (const s of held.splice(0)) {
      if (!s.destroyed) s.respond({ ':status': 200 }, { endStream: true });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    peak: () => peak,
    tcpConnections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends `count` POSTs at once through the origin's dispatcher; resolves with their statuses. */
function postAtOnce(pool: OriginPool, origin: string, count: number): Promise<number[]> {
  const dispatcher = pool.dispatcher(`${origin}/mcp`);
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await dispatcher.request({
        origin,
        path: '/mcp',
        method: 'POST',
        body: '{}',
      });
      await response.body.dump();
      return response.statusCode;
    }),
  );
}

describe('OriginPool HTTP/2 budget', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('keep 10,000 calls in flight at once over at most 4 TCP connections with default settings, to a server that advertises no stream limit', async () => {
    const calls = 10_000;
    const server = await startHoldingServer(calls);
    close = server.close;
    await using pool = new OriginPool({ h2c: true });
    const statuses = await postAtOnce(pool, server.origin, calls);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(server.peak()).toBe(calls);
    expect(server.tcpConnections()).toBeLessThanOrEqual(4);
    expect(pool.stats().total.rejected).toBe(0);
  }, 60_000);

  it('follow a lower SETTINGS_MAX_CONCURRENT_STREAMS of the server, opening connections up to the cap', async () => {
    // 3 connections x 50 streams: all 150 fit only if the pool opens all three.
    const server = await startHoldingServer(150, { maxConcurrentStreams: 50 });
    close = server.close;
    await using pool = new OriginPool({ h2c: true, maxConnectionsPerOrigin: 3 });
    const statuses = await postAtOnce(pool, server.origin, 150);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(server.peak()).toBe(150);
    expect(server.tcpConnections()).toBe(3);
  }, 30_000);
});
