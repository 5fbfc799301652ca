// 100 tool calls at once over one HTTP/2 connection, while server-initiated messages are read.
//   node examples/many-calls.ts [url] [--h2c]   (default: the demo, http://127.0.0.1:8080/example/mcp)
import { isJsonRpcErrorResponse } from '@mcp/connection-core';
import { createHttp2Connection } from '@mcp/http2';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/example/mcp';
const connection = createHttp2Connection({ url, h2c: process.argv.includes('--h2c') });

// Server-initiated messages (the GET stream), with backpressure. The loop ends on close().
const fromServer = (async () => {
  for await (const message of connection) console.log('from server', JSON.stringify(message));
})();

try {
  await connection.request({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'many-calls', version: '1.0.0' },
    },
  });
  await connection.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
  console.log(connection.sessionId, connection.protocolVersion, connection.httpProtocol);

  // 100 calls at once: 100 HTTP/2 streams on one connection.
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      connection.request(
        {
          jsonrpc: '2.0',
          id: 100 + i,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: `hello ${i}` } },
        },
        { timeoutMs: 10_000, onMessage: (m) => console.log('related', JSON.stringify(m)) },
      ),
    ),
  );
  const failed = results.filter(
    (r) => isJsonRpcErrorResponse(r) || (r.result as { isError?: boolean }).isError === true,
  );
  console.log(`${results.length - failed.length} of ${results.length} calls answered`);
  console.log('first answer:', JSON.stringify(results[0]));
  if (failed.length > 0) process.exitCode = 1;
} finally {
  await connection.close();
  await fromServer;
}
