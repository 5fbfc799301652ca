import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIXTURE_TLS, startLegacySseServer, startSdkServer } from '@mcp/test-fixtures';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  closeAfterEach,
  initialized,
  initializeRequest,
  request,
  textOf,
} from '../test/helpers.ts';
import { connectWithFallback } from './fallback.ts';

const own = closeAfterEach();

/** A 2024-11-05 server: GET /mcp opens the SSE stream, POST /mcp is 405. */
async function startLegacyServer(authorizations: string[] = []): Promise<string> {
  const transports = new Map<string, SSEServerTransport>();
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  };
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    authorizations.push(`${req.method} ${url.pathname} ${req.headers.authorization}`);
    if (url.pathname === '/mcp' && req.method === 'GET') {
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      const server = new McpServer({ name: 'legacy', version: '1' });
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text }],
      }));
      void server.connect(transport);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (transport === undefined) {
        res.writeHead(404).end();
        return;
      }
      readBody(req).then((body) => transport.handlePostMessage(req, res, body));
      return;
    }
    res.writeHead(405, { allow: 'GET' }).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  own({
    async close() {
      for (const t of transports.values()) await t.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}

describe('connectWithFallback', () => {
  it('uses Streamable HTTP when the server speaks it', async () => {
    const server = own(await startSdkServer({ mode: 'json' }));
    const result = await connectWithFallback({
      url: server.url,
      serverStream: false,
      initialize: initializeRequest(),
    });
    const connection = own(result.connection);
    expect(result.transport).toBe('streamable-http');
    expect(result.initializeResponse).toHaveProperty('result.protocolVersion', '2025-11-25');
    expect(connection.sessionId).toBeDefined();
  });

  it('falls back to the legacy HTTP+SSE transport on 405', async () => {
    const url = await startLegacyServer();
    const result = await connectWithFallback({
      url,
      initialize: initializeRequest('2024-11-05'),
    });
    const connection = own(result.connection);
    expect(result.transport).toBe('legacy-sse');
    expect(result.initializeResponse).toHaveProperty('result.protocolVersion', '2024-11-05');
    await connection.notify(initialized);
    const echoed = await connection.request({
      ...request('tools/call'),
      params: { name: 'echo', arguments: { text: 'old' } },
    });
    expect(textOf(echoed)).toBe('old');
  });

  it('does not fall back on other failures', async () => {
    await expect(
      connectWithFallback({ url: 'http://127.0.0.1:1/mcp', initialize: initializeRequest() }),
    ).rejects.toMatchObject({ code: 'MCP_TRANSPORT' });
  });

  it.each([
    { http: 'h2' as const, options: { tls: { ca: FIXTURE_TLS.ca } } },
    { http: 'h2c' as const, options: { h2c: true } },
  ])('keeps $http options for the legacy leg', async ({ http, options }) => {
    const server = own(await startLegacySseServer({ http }));
    const result = await connectWithFallback({
      url: server.url,
      ...options,
      initialize: initializeRequest('2024-11-05'),
    });
    const connection = own(result.connection);
    expect(result.transport).toBe('legacy-sse');
    await connection.notify(initialized);
    const echoed = await connection.request({
      ...request('tools/call'),
      params: { name: 'echo', arguments: { text: http } },
    });
    expect(textOf(echoed)).toBe(http);
  });

  it('sends the headers of a headers function on the legacy leg', async () => {
    const seen: string[] = [];
    const url = await startLegacyServer(seen);
    const result = await connectWithFallback({
      url,
      headers: async () => ({ authorization: 'Bearer rotating' }),
      initialize: initializeRequest('2024-11-05'),
    });
    own(result.connection);
    expect(result.transport).toBe('legacy-sse');
    expect(seen.filter((s) => s.startsWith('GET /mcp'))).toEqual(['GET /mcp Bearer rotating']);
    expect(seen.filter((s) => s.startsWith('POST /messages'))).toEqual([
      'POST /messages Bearer rotating',
    ]);
  });
});
