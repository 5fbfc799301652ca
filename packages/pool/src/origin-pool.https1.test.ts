import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { FIXTURE_TLS } from '@mcp/test-fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginPool } from './origin-pool.ts';

/** An HTTPS server offering only HTTP/1.1 that answers no request before `release` are open. */
async function startHttpsHttp1Server(release: number) {
  const held: Array<() => void> = [];
  let sockets = 0;
  const server = https.createServer(
    { key: FIXTURE_TLS.key, cert: FIXTURE_TLS.cert },
    (req, res) => {
      req.resume();
      held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
      if (held.length >= release) for (const answer of held.splice(0)) answer();
    },
  );
  server.on('secureConnection', () => sockets++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    sockets: () => sockets,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('OriginPool with an https: origin that offers only HTTP/1.1', () => {
  it('moves the origin to the HTTP/1.1 budgets once ALPN has chosen, requests waiting included', async () => {
    // 20 requests held open together: more than maxConnectionsPerOrigin (2) sockets.
    const server = await startHttpsHttp1Server(20);
    close = server.close;
    await using pool = new OriginPool({ tls: { ca: FIXTURE_TLS.ca }, maxConnectionsPerOrigin: 2 });
    const dispatcher = pool.dispatcher(`${server.origin}/mcp`);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await dispatcher.request({
          origin: server.origin,
          path: '/mcp',
          method: 'POST',
          body: '{}',
        });
        await response.body.dump();
        return response.statusCode;
      }),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(pool.stats().origins[0]?.protocol).toBe('h1');
    expect(server.sockets()).toBeGreaterThanOrEqual(20);
  });
});
