// 50 MCP sessions over one origin's few HTTP/2 connections, 1,000 tool calls, and what the pool
// used. 50 stays under the demo proxy's default quota of 64 sessions per client (one address). Against the demo's example upstream (or any server with an `echo {text}` tool, over h2c):
//   node examples/many-sessions.ts [url]   (default: the demo, http://127.0.0.1:8080/example/mcp)
import { OriginPool } from '@mcp/pool';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/example/mcp';
const pool = new OriginPool({ h2c: true, maxConnectionsPerOrigin: 2 });
try {
  const sessions = await Promise.all(
    Array.from({ length: 50 }, (_, i) => pool.connection(url, { key: `user-${i}` })),
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
    Array.from({ length: 1_000 }, (_, i) =>
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
  const { requests, latencyMs } = total.metrics;
  console.log(`1,000 tool calls from 50 sessions in ${ms.toFixed(0)} ms`);
  console.log(`pool: ${total.connected} TCP connections, ${total.sessions} sessions`);
  console.log(
    `requests: ${requests.succeeded} ok, ${requests.failed} failed, ` +
      `p50 ${latencyMs.p50.toFixed(1)} ms, p99 ${latencyMs.p99.toFixed(1)} ms`,
  );
  if (requests.failed > 0) process.exitCode = 1;
} finally {
  await pool.close();
}
