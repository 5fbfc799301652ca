// 200 SDK Clients, each its own MCP session, sharing an OriginPool's connections to one server:
// `pnpm --filter @mcp/sdk-transport example`.
import { OriginPool } from '@mcp/pool';
import { poolTransport } from '@mcp/sdk-transport';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startV1Server } from '../test/server-v1.ts';

const server = await startV1Server('h2c');
const url = server.url;
const pool = new OriginPool({
  h2c: true, // cleartext HTTP/2 to http: origins (https: negotiates h2 by ALPN)
  maxConnectionsPerOrigin: 2,
  maxConcurrentStreams: 250, // each session keeps one stream for its GET; calls use the rest
});
try {
  const clients = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const client = new Client({ name: `agent-${i}`, version: '1.0.0' });
      await client.connect(poolTransport(pool, url)); // its own session, the pool's TCP
      return client;
    }),
  );
  await Promise.all(
    clients.map((client, i) => client.callTool({ name: 'echo', arguments: { text: `${i}` } })),
  );
  console.log(`${clients.length} clients, ${server.sessions()} sessions,`);
  console.log(`${server.tcpConnections()} TCP connections accepted by the server`);
  await Promise.all(clients.map((client) => client.close()));
} finally {
  await pool.close();
  await server.close();
}
