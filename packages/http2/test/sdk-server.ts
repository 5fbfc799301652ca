import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CreateMessageResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export type SdkServerMode = 'json' | 'sse' | 'events';

export interface SdkServer {
  url: string;
  /** Every HTTP request the server saw: method and the MCP headers. */
  seen: Array<{
    method: string;
    sessionId?: string;
    protocolVersion?: string;
    lastEventId?: string;
  }>;
  /** Session ids the server ended on DELETE. */
  deleted: string[];
  /** Requests the server was told were cancelled (notifications/cancelled). */
  cancelled: Array<{ requestId: unknown; reason: unknown }>;
  /** Forgets every session (as a restarted server would). */
  forgetSessions(): void;
  /** Sends a notification on the GET stream of every session. */
  broadcast(method: string, params: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

function buildMcpServer(): McpServer {
  const server = new McpServer(
    { name: 'fixture', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool(
    'progress',
    { inputSchema: { steps: z.number() } },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps },
          });
        }
      }
      return { content: [{ type: 'text', text: `did ${steps}` }] };
    },
  );
  server.registerTool(
    'sample',
    { inputSchema: { question: z.string() } },
    async ({ question }, extra) => {
      const answer = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: {
            messages: [{ role: 'user', content: { type: 'text', text: question } }],
            maxTokens: 5,
          },
        },
        CreateMessageResultSchema,
      );
      const text = answer.content.type === 'text' ? answer.content.text : '?';
      return { content: [{ type: 'text', text: `answer: ${text}` }] };
    },
  );
  server.registerTool('sleep', { inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      extra.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { content: [{ type: 'text', text: 'slept' }] };
  });
  // Closes its POST stream after a priming event, then answers later (SEP-1699 polling).
  server.registerTool('hangup', { inputSchema: { text: z.string() } }, async ({ text }, extra) => {
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', data: 'before hangup' },
    });
    extra.closeSSEStream?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', data: 'after hangup' },
    });
    return { content: [{ type: 'text', text: `late ${text}` }] };
  });
  return server;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : JSON.parse(text);
}

export async function startSdkServer(
  mode: SdkServerMode,
  options: { retryInterval?: number } = {},
): Promise<SdkServer> {
  const sessions = new Map<
    string,
    { transport: StreamableHTTPServerTransport; server: McpServer }
  >();
  const seen: SdkServer['seen'] = [];
  const deleted: string[] = [];
  const cancelled: SdkServer['cancelled'] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const sessionId = header('mcp-session-id');
    const entry: SdkServer['seen'][number] = { method: req.method ?? '' };
    if (sessionId !== undefined) entry.sessionId = sessionId;
    const pv = header('mcp-protocol-version');
    if (pv !== undefined) entry.protocolVersion = pv;
    const lei = header('last-event-id');
    if (lei !== undefined) entry.lastEventId = lei;
    seen.push(entry);

    if (sessionId !== undefined) {
      const known = sessions.get(sessionId);
      if (known === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: { code: -32001, message: 'Session not found' },
          }),
        );
        return;
      }
      if (req.method === 'DELETE') deleted.push(sessionId);
      const body = req.method === 'POST' ? await readJsonBody(req) : undefined;
      const message = body as
        | { method?: string; params?: SdkServer['cancelled'][number] }
        | undefined;
      if (message?.method === 'notifications/cancelled' && message.params)
        cancelled.push(message.params);
      await known.transport.handleRequest(req, res, body);
      return;
    }
    // No session: only an initialize POST may start one.
    const body = req.method === 'POST' ? await readJsonBody(req) : undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: mode === 'json',
      ...(mode === 'events' ? { eventStore: new InMemoryEventStore() } : {}),
      ...(options.retryInterval !== undefined ? { retryInterval: options.retryInterval } : {}),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    const server = buildMcpServer();
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    deleted,
    cancelled,
    forgetSessions() {
      const all = [...sessions.values()];
      sessions.clear();
      for (const s of all) void s.server.close().catch(() => {});
    },
    async broadcast(method, params) {
      for (const { server } of sessions.values()) {
        await server.server.notification({ method, params } as never);
      }
    },
    async close() {
      for (const { server } of sessions.values()) await server.close().catch(() => {});
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
