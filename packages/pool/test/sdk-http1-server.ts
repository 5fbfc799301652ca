import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * The official SDK v1 MCP server (stateful, SSE answers: how most servers in the field run) on
 * node:http, HTTP/1.1 only. Tools: `echo`, and `slow`, which answers after `ms`. It counts TCP
 * connections and the GET streams open now.
 */
export interface SdkHttp1Server {
  url: string;
  tcpConnections(): number;
  openGetStreams(): number;
  /** Resolves once `n` GET streams are open at the same time (rejects after `timeoutMs`). */
  waitForGetStreams(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : JSON.parse(text);
}

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'sdk-http1', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('slow', { inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: `slept ${ms}` }] };
  });
  return server;
}

export async function startSdkHttp1Server(): Promise<SdkHttp1Server> {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; mcp: McpServer }>();
  const sockets = new Set<Socket>();
  let connections = 0;
  let getStreams = 0;
  const getWaiters = new Set<() => void>();

  const countGetStream = (res: ServerResponse): void => {
    getStreams++;
    for (const wake of getWaiters) wake();
    res.on('close', () => getStreams--);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sessionId = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJsonBody(req) : undefined;
    if (typeof sessionId === 'string') {
      const known = sessions.get(sessionId);
      if (known === undefined) {
        res.writeHead(404).end();
        return;
      }
      if (req.method === 'GET') countGetStream(res);
      await known.transport.handleRequest(req, res, body);
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, mcp });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    const mcp = buildMcpServer();
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    tcpConnections: () => connections,
    openGetStreams: () => getStreams,
    waitForGetStreams(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (getStreams < n) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${getStreams} GET streams open after ${timeoutMs} ms, not ${n}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          getWaiters.delete(check);
        };
        getWaiters.add(check);
        check();
      });
    },
    async close() {
      for (const { mcp } of sessions.values()) await mcp.close().catch(() => {});
      sessions.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
