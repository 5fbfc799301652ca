/**
 * Talks to an MCP server that only speaks the legacy 2024-11-05 HTTP+SSE transport (here the
 * official SDK's SSEServerTransport, started in-process) through createSseConnection.
 *
 * Run: npx -y pnpm@12.21.0 --filter @mcp/sse example:legacy
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSseConnection } from '@mcp/sse';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { z } from 'zod';

// --- a legacy server: GET /sse opens the stream, POST /messages?sessionId=... carries messages
const transports = new Map<string, SSEServerTransport>();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/sse') {
    const transport = new SSEServerTransport('/messages', res);
    transports.set(transport.sessionId, transport);
    const mcp = new McpServer({ name: 'legacy-demo', version: '1.0.0' });
    mcp.registerTool('add', { inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
    }));
    res.on('close', () => transports.delete(transport.sessionId));
    await mcp.connect(transport);
  } else if (req.method === 'POST' && url.pathname === '/messages') {
    const transport = transports.get(url.searchParams.get('sessionId') ?? '');
    if (transport) await transport.handlePostMessage(req, res);
    else res.writeHead(404).end();
  } else {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const sseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sse`;

// --- the client
const connection = await createSseConnection({ url: sseUrl, requestTimeoutMs: 10_000 });
console.log('session', connection.sessionId, 'posting to', connection.endpoint.href);
await connection.request({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2024-11-05',
    capabilities: {},
    clientInfo: { name: 'example', version: '1' },
  },
});
await connection.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
const sum = await connection.request({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'add', arguments: { a: 2, b: 3 } },
});
console.log('protocol', connection.protocolVersion, 'add(2, 3) ->', JSON.stringify(sum));
console.log('metrics', JSON.stringify(connection.metrics.snapshot().requests));
await connection.close();
server.closeAllConnections();
server.close();
