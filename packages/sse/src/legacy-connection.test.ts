import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  AbortedError,
  ConnectionClosedError,
  EndpointOriginError,
  HttpStatusError,
  InvalidMessageError,
  InvalidOptionsError,
  type JsonRpcMessage,
  type ProtocolError,
  SessionExpiredError,
  TimeoutError,
  UnknownResponseIdError,
} from '@mcp/connection-core';
import { dropConnectionHeader, initializeMessage } from '@mcp/test-fixtures';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { Agent, H2CClient } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSseConnection, type SseConnection } from './legacy-connection.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The official SDK's legacy HTTP+SSE server: GET /sse, POST /messages?sessionId=... */
async function sdkServer(kind: 'http1' | 'h2c' = 'http1') {
  const transports = new Map<string, SSEServerTransport>();
  const servers: McpServer[] = [];
  const cancelled: string[] = [];
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      const mcp = new McpServer({ name: 'legacy-test', version: '1.0.0' });
      mcp.registerTool(
        'echo',
        { description: 'Echoes', inputSchema: { text: z.string() } },
        async ({ text }) => ({ content: [{ type: 'text', text }] }),
      );
      mcp.registerTool(
        'count',
        { description: 'Reports progress', inputSchema: { to: z.number() } },
        async ({ to }, extra) => {
          const progressToken = extra._meta?.progressToken;
          for (let i = 1; i <= to; i++) {
            if (progressToken !== undefined) {
              await extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken, progress: i, total: to },
              });
            }
          }
          return { content: [{ type: 'text', text: `counted to ${to}` }] };
        },
      );
      mcp.registerTool('hang', { description: 'Never answers' }, (extra) => {
        return new Promise((_resolve, reject) => {
          extra.signal.addEventListener('abort', () => {
            cancelled.push(String(extra.requestId));
            reject(new Error('cancelled'));
          });
        });
      });
      servers.push(mcp);
      res.on('close', () => transports.delete(transport.sessionId));
      await mcp.connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (!transport) {
        res.writeHead(404).end('unknown session');
        return;
      }
      await transport.handlePostMessage(req, res);
      return;
    }
    res.writeHead(404).end();
  };
  let origin: string;
  if (kind === 'http1') {
    origin = await listen(http.createServer(handler));
  } else {
    // The SDK's legacy transport on the HTTP/2 compatibility API. It sets `Connection:
    // keep-alive`, which HTTP/2 forbids (node drops it with an UnsupportedWarning): drop it first.
    const h2 = http2.createServer((req, res) => {
      dropConnectionHeader(res);
      void handler(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
    });
    const sessions = new Set<http2.ServerHttp2Session>();
    h2.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    h2.listen(0, '127.0.0.1');
    await once(h2, 'listening');
    cleanups.push(() => {
      for (const session of sessions) session.destroy();
      return new Promise<void>((resolve) => h2.close(() => resolve()));
    });
    origin = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
  }
  cleanups.push(async () => {
    for (const mcp of servers) await mcp.close();
  });
  return { url: `${origin}/sse`, transports, servers, cancelled };
}

async function connect(
  url: string,
  extra: Partial<Parameters<typeof createSseConnection>[0]> = {},
) {
  const connection = await createSseConnection({ url, ...extra });
  cleanups.push(() => connection.close());
  return connection;
}

async function initialize(connection: SseConnection): Promise<void> {
  const response = await connection.request(
    initializeMessage({
      protocolVersion: '2024-11-05',
      clientInfo: { name: 'sse-test', version: '0' },
    }),
  );
  expect('result' in response).toBe(true);
  await connection.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

describe('createSseConnection against the SDK legacy server', () => {
  it('initializes, lists and calls tools, and closes', async () => {
    const server = await sdkServer();
    const connection = await connect(server.url);
    expect(connection.sessionId).toBeDefined();
    expect(server.transports.has(connection.sessionId as string)).toBe(true);
    expect(connection.endpoint.pathname).toBe('/messages');
    expect(connection.isMultiplexed).toBe(false);
    await initialize(connection);
    expect(connection.protocolVersion).toBe('2024-11-05');

    const list = await connection.request({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const tools = (list as { result: { tools: Array<{ name: string }> } }).result.tools;
    expect(tools.map((t) => t.name).sort()).toEqual(['count', 'echo', 'hang']);

    const calls = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        connection.request({
          jsonrpc: '2.0',
          id: `call-${i}`,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: `hello ${i}` } },
        }),
      ),
    );
    calls.forEach((response, i) => {
      expect(response.id).toBe(`call-${i}`);
      expect(response).toMatchObject({
        result: { content: [{ type: 'text', text: `hello ${i}` }] },
      });
    });
    const stats = connection.metrics.snapshot();
    expect(stats.requests).toMatchObject({ started: 22, succeeded: 22, failed: 0, inFlight: 0 });
    expect(stats.notifications.sent).toBe(1);

    await expect(
      connection.request(
        { jsonrpc: '2.0', id: 'pre', method: 'ping' },
        { signal: AbortSignal.abort() },
      ),
    ).rejects.toBeInstanceOf(AbortedError);
    const hanging = connection.request({
      jsonrpc: '2.0',
      id: 'h',
      method: 'tools/call',
      params: { name: 'hang', arguments: {} },
    });
    const hangingResult = hanging.catch((e: unknown) => e);
    await connection.close();
    expect(await hangingResult).toBeInstanceOf(ConnectionClosedError);
    expect(connection.closed).toBe(true);
    await connection.close();
    expect(await connection.receive()).toBeUndefined();
    await expect(
      connection.request({ jsonrpc: '2.0', id: 9, method: 'ping' }),
    ).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('delivers server notifications to receive()', async () => {
    const server = await sdkServer();
    const connection = await connect(server.url);
    await initialize(connection);
    const mcp = server.servers[0] as McpServer;
    mcp.sendToolListChanged();
    const message = await connection.receive();
    expect(message).toMatchObject({ method: 'notifications/tools/list_changed' });
    expect(connection.metrics.snapshot().notifications.received).toBe(1);
  });

  it('answers a server-to-client request with respond()', async () => {
    const server = await sdkServer();
    const connection = await connect(server.url);
    await initialize(connection);
    const mcp = server.servers[0] as McpServer;
    const ping = mcp.server.ping();
    for await (const message of connection) {
      expect(message).toMatchObject({ method: 'ping' });
      const { id } = message as { id: string | number };
      await connection.respond({ jsonrpc: '2.0', id, result: {} });
      break;
    }
    await expect(ping).resolves.toEqual({});
  });

  it('routes progress notifications of a request to its onMessage', async () => {
    const server = await sdkServer();
    const connection = await connect(server.url);
    await initialize(connection);
    const seen: JsonRpcMessage[] = [];
    const response = await connection.request(
      {
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: { name: 'count', arguments: { to: 3 }, _meta: { progressToken: 'tok' } },
      },
      { onMessage: (m) => seen.push(m), timeoutMs: 10_000, resetTimeoutOnProgress: true },
    );
    expect(response).toMatchObject({ result: { content: [{ text: 'counted to 3' }] } });
    expect(
      seen.map((m) => (m as unknown as { params: { progress: number } }).params.progress),
    ).toEqual([1, 2, 3]);
  });

  it('times out a request and tells the server to cancel it', async () => {
    const server = await sdkServer();
    const connection = await connect(server.url);
    await initialize(connection);
    const err = await connection
      .request(
        {
          jsonrpc: '2.0',
          id: 'slow',
          method: 'tools/call',
          params: { name: 'hang', arguments: {} },
        },
        { timeoutMs: 50 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    // The cancellation reaches the server: a ping after it is answered after it was handled.
    for (let i = 0; i < 200 && server.cancelled.length === 0; i++) {
      await connection.request({ jsonrpc: '2.0', id: `ping-${i}`, method: 'ping' });
    }
    expect(server.cancelled).toEqual(['slow']);
    expect(connection.metrics.snapshot().requests.failedByCode).toEqual({ MCP_TIMEOUT: 1 });
  });

  it('ends when the server closes the stream', async () => {
    const server = await sdkServer();
    const connection = await connect(server.url);
    await initialize(connection);
    const hanging = connection.request({
      jsonrpc: '2.0',
      id: 'h',
      method: 'tools/call',
      params: { name: 'hang', arguments: {} },
    });
    const hangingResult = hanging.catch((e: unknown) => e);
    await (server.servers[0] as McpServer).close();
    const err = await hangingResult;
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(await connection.receive()).toBeUndefined();
    expect(connection.closed).toBe(true);
  });
});

/** A hand-written legacy server, for what the SDK never does. */
async function rawServer(
  onGet: (res: http.ServerResponse) => void,
  onPost?: (body: string) => void,
  postStatus = 202,
) {
  const streams: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      streams.push(res);
      onGet(res);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      res.writeHead(postStatus).end();
      onPost?.(body);
    });
  });
  const origin = await listen(server);
  return { url: `${origin}/sse`, streams };
}

describe('createSseConnection over HTTP/2 (h2c)', () => {
  // Node prints one UnsupportedWarning: the SDK sets `Connection`, which HTTP/2 drops.
  it('multiplexes concurrent requests on one connection', async () => {
    const server = await sdkServer('h2c');
    const client = new H2CClient(new URL(server.url).origin);
    cleanups.push(() => client.close());
    const connection = await connect(server.url, { dispatcher: client });
    expect(connection.isMultiplexed).toBe(true);
    await initialize(connection);
    const calls = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        connection.request({
          jsonrpc: '2.0',
          id: i + 10,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: `h2 ${i}` } },
        }),
      ),
    );
    calls.forEach((response, i) => {
      expect(response).toMatchObject({ id: i + 10, result: { content: [{ text: `h2 ${i}` }] } });
    });
    await connection.close();
    expect(client.closed).toBe(false);
  });
});

describe('createSseConnection protocol checks', () => {
  it('refuses an endpoint on another origin', async () => {
    const { url } = await rawServer((res) => {
      res.write('event: endpoint\ndata: http://evil.example:1/messages?sessionId=x\n\n');
    });
    await expect(createSseConnection({ url })).rejects.toBeInstanceOf(EndpointOriginError);
  });

  it('reports a response with an unknown id without failing other requests', async () => {
    const errors: ProtocolError[] = [];
    let stream: http.ServerResponse | undefined;
    const { url } = await rawServer(
      (res) => {
        stream = res;
        res.write('event: endpoint\ndata: /messages?sessionId=abc\n\n');
      },
      (body) => {
        const { id } = JSON.parse(body) as { id: number };
        stream?.write(`event: message\ndata: {"jsonrpc":"2.0","id":999,"result":{}}\n\n`);
        stream?.write('event: message\ndata: not json\n\n');
        stream?.write(`event: message\ndata: {"jsonrpc":"2.0","id":${id},"result":{"ok":1}}\n\n`);
      },
    );
    const connection = await connect(url, { onProtocolError: (e) => errors.push(e) });
    expect(connection.sessionId).toBe('abc');
    const response = await connection.request({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(response).toEqual({ jsonrpc: '2.0', id: 1, result: { ok: 1 } });
    expect(errors.map((e) => e.code)).toEqual(['MCP_UNKNOWN_RESPONSE_ID', 'MCP_INVALID_MESSAGE']);
    expect(errors[0]).toBeInstanceOf(UnknownResponseIdError);
  });

  it('times out waiting for the endpoint event', async () => {
    const { url } = await rawServer(() => {});
    await expect(createSseConnection({ url, endpointTimeoutMs: 50 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });

  it('maps a 404 from the message endpoint to SessionExpiredError', async () => {
    const { url } = await rawServer(
      (res) => {
        res.write('event: endpoint\ndata: /gone?sessionId=old\n\n');
      },
      undefined,
      404,
    );
    const connection = await connect(url);
    const err = await connection
      .request({ jsonrpc: '2.0', id: 1, method: 'ping' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionExpiredError);
    expect((err as SessionExpiredError).sessionId).toBe('old');
    expect((err as SessionExpiredError).cause).toBeInstanceOf(HttpStatusError);
  });

  it('uses a caller-supplied dispatcher and leaves it open on close', async () => {
    const server = await sdkServer();
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const connection = await connect(server.url, { dispatcher: agent });
    await initialize(connection);
    const first = connection.request({ jsonrpc: '2.0', id: 'same', method: 'ping' });
    await expect(
      connection.request({ jsonrpc: '2.0', id: 'same', method: 'ping' }),
    ).rejects.toBeInstanceOf(InvalidMessageError);
    await first;
    await connection.close();
    expect(agent.closed).toBe(false);
    const again = await connect(server.url, { dispatcher: agent });
    await initialize(again);
  });

  it('validates its options', async () => {
    await expect(createSseConnection({ url: 'not a url' })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
  });
});
