import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** The official SDK's MCP server (one `echo` tool) over cleartext HTTP/2, counting TCP connections. */
export interface SdkH2cServer {
  url: string;
  tcpConnections(): number;
  /** Sessions the server holds now. */
  sessions(): number;
  close(): Promise<void>;
}

type Request = http2.Http2ServerRequest;
type Response = http2.Http2ServerResponse;

async function readJsonBody(req: Request): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : JSON.parse(text);
}

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'sdk-h2c', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

export async function startSdkH2cServer(options: { json: boolean }): Promise<SdkH2cServer> {
  const sessions = new Map<
    string,
    { transport: StreamableHTTPServerTransport; server: McpServer }
  >();
  let connections = 0;

  const handle = async (req: Request, res: Response): Promise<void> => {
    const sessionId = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJsonBody(req) : undefined;
    if (typeof sessionId === 'string') {
      const known = sessions.get(sessionId);
      if (known === undefined) {
        res.writeHead(404).end();
        return;
      }
      // The SDK's types name node:http's request and response; the HTTP/2 compatibility API
      // offers what it uses.
      await known.transport.handleRequest(req as never, res as never, body);
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.json,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    const server = buildMcpServer();
    await server.connect(transport);
    await transport.handleRequest(req as never, res as never, body);
  };

  const h2 = http2.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  const open = new Set<http2.ServerHttp2Session>();
  h2.on('connection', () => {
    connections++;
  });
  h2.on('session', (session) => {
    open.add(session);
    session.on('close', () => open.delete(session));
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  const { port } = h2.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    tcpConnections: () => connections,
    sessions: () => sessions.size,
    async close() {
      for (const { server } of sessions.values()) await server.close().catch(() => {});
      sessions.clear();
      for (const session of open) session.destroy();
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    },
  };
}
