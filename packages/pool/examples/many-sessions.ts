// Runs 100 MCP sessions against the official SDK server over cleartext HTTP/2 and prints what
// the pool used: `pnpm --filter @mcp/pool example`.
import { OriginPool } from '@mcp/pool';
import { startSdkServer } from '@mcp/test-fixtures';

const server = await startSdkServer({ mode: 'json', http: 'h2c' });
const pool = new OriginPool({ h2c: true, maxConnectionsPerOrigin: 2 });
try {
  const sessions = await Promise.all(
    Array.from({ length: 100 }, (_, i) => pool.connection(server.url, { key: `user-${i}` })),
  );
  await Promise.all(
    sessions.map(async (session) => {
      await session.request({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'example', version: '1.0.0' },
        },
      });
      await session.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }),
  );

  const started = performance.now();
  await Promise.all(
    Array.from({ length: 5_000 }, (_, i) =>
      sessions[i % sessions.length]?.request({
        jsonrpc: '2.0',
        id: i + 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: `hello ${i}` } },
      }),
    ),
  );
  const ms = performance.now() - started;

  const { total } = pool.stats();
  console.log(`5,000 tool calls from 100 sessions in ${ms.toFixed(0)} ms`);
  console.log(`TCP connections opened by the server's count: ${server.tcpConnections()}`);
  console.log(`pool: ${total.connected} connected, ${total.sessions} sessions,`);
  console.log(
    `requests: ${total.metrics.requests.succeeded} ok, p50 ${total.metrics.latencyMs.p50} ms, p99 ${total.metrics.latencyMs.p99} ms`,
  );
} finally {
  await pool.close();
  await server.close();
}
