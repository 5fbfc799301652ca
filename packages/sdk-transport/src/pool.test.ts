import { OriginPool } from '@mcp/pool';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { firstText } from '../test/clients.ts';
import type { TestServer } from '../test/host.ts';
import { startV1Server } from '../test/server-v1.ts';
import { startV2Server } from '../test/server-v2.ts';
import { poolTransport } from './index.ts';

const CLIENTS = 50;

describe.each([
  ['v1', startV1Server],
  ['v2', startV2Server],
] as const)('poolTransport against the SDK %s server over h2c', (_, start) => {
  let server: TestServer | undefined;
  let pool: OriginPool | undefined;

  afterEach(async () => {
    await pool?.close();
    await server?.close();
  });

  it(`runs ${CLIENTS} SDK Clients, each its own session, over one TCP connection`, async () => {
    server = await start('h2c');
    pool = new OriginPool({ h2c: true, maxConnectionsPerOrigin: 1, maxConcurrentStreams: 250 });
    const url = server.url;
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = new Client({ name: 'pooled', version: '1.0.0' });
        const transport = poolTransport(pool as OriginPool, url);
        await client.connect(transport);
        return { client, transport };
      }),
    );
    const results = await Promise.all(
      clients.map(({ client }, i) =>
        client.callTool({ name: 'echo', arguments: { text: `client ${i}` } }),
      ),
    );
    expect(results.map(firstText)).toEqual(clients.map((_, i) => `client ${i}`));
    expect(new Set(clients.map((c) => c.transport.sessionId)).size).toBe(CLIENTS);
    expect(server.sessions()).toBe(CLIENTS);
    expect(server.tcpConnections()).toBe(1);
    expect(pool.stats().total.sessions).toBe(CLIENTS);

    await Promise.all(clients.map(({ client }) => client.close()));
    expect(server.deleted).toHaveLength(CLIENTS);
    expect(pool.stats().total.sessions).toBe(0);
  });

  it('a key names one session: transports given the same key share it', async () => {
    server = await start('h2c');
    pool = new OriginPool({ h2c: true });
    const first = poolTransport(pool, server.url, { key: 'alice' });
    const client = new Client({ name: 'alice', version: '1.0.0' });
    await client.connect(first);
    const second = poolTransport(pool, server.url, { key: 'alice' });
    await second.start();
    expect(second.connection).toBe(first.connection);
    expect(second.sessionId).toBe(first.sessionId);
    await client.close();
  });
});
