/**
 * An example upstream MCP server, built with the official SDK (`McpServer` +
 * `StreamableHTTPServerTransport`) on node:http2 (h2c) or node:http. Tools: `echo`, `slow`,
 * `progress`, `sample`, `bump` (updates the subscribable resource `example://counter`).
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CreateMessageResultSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface ExampleUpstreamOptions {
  host?: string;
  port?: number;
  /** Serve cleartext HTTP/2 (default) or HTTP/1.1. */
  http2?: boolean;
  /** Answer POSTs with JSON instead of SSE (the SDK's `enableJsonResponse`). */
  jsonResponse?: boolean;
}

export interface ExampleUpstream {
  /** The MCP endpoint, `http://host:port/mcp`. */
  readonly url: string;
  /** Open sessions. */
  readonly sessionCount: number;
  /** Authorization header values received, in order (tests check what a proxy forwards). */
  readonly authorizations: readonly string[];
  /** `slow` calls cancelled by the client (notifications/cancelled or a reset stream). */
  readonly cancelledCount: number;
  /** While true, initialize gets 503 (a server that cannot take new sessions). */
  refuseNewSessions: boolean;
  /** Drops every session (as a restarted server would): clients get 404 and must re-initialize. */
  forgetSessions(): Promise<void>;
  close(): Promise<void>;
}

const COUNTER_URI = 'example://counter';

function createExampleServer(stats: { cancelled: number }): McpServer {
  const server = new McpServer(
    { name: 'example-upstream', version: '1.0.0' },
    { capabilities: { resources: { subscribe: true }, logging: {} } },
  );
  let counter = 0;
  const subscribed = new Set<string>();

  server.registerTool(
    'echo',
    { description: 'Returns its text.', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'slow',
    {
      description: 'Answers after `ms` milliseconds.',
      inputSchema: { ms: z.number().int().min(0).max(600_000) },
    },
    async ({ ms }, extra) => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener(
          'abort',
          () => {
            stats.cancelled++;
            clearTimeout(timer);
            reject(new Error('cancelled'));
          },
          { once: true },
        );
      });
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );
  server.registerTool(
    'progress',
    {
      description: 'Sends `steps` progress notifications, then answers.',
      inputSchema: { steps: z.number().int().min(1).max(1000) },
    },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps, message: `step ${i}` },
          });
        }
      }
      return { content: [{ type: 'text', text: `done ${steps} steps` }] };
    },
  );
  server.registerTool(
    'sample',
    {
      description: 'Asks the client to sample an LLM with `prompt`.',
      inputSchema: { prompt: z.string() },
    },
    async ({ prompt }, extra) => {
      const result = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: {
            messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
            maxTokens: 100,
          },
        },
        CreateMessageResultSchema,
      );
      const text =
        result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
      return { content: [{ type: 'text', text: `sampled: ${text}` }] };
    },
  );
  server.registerResource(
    'counter',
    COUNTER_URI,
    { description: 'A counter that `bump` increments.', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, text: String(counter) }] }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  server.registerTool(
    'bump',
    { description: 'Increments the counter resource (subscribers are notified).' },
    async () => {
      counter++;
      if (subscribed.has(COUNTER_URI))
        await server.server.sendResourceUpdated({ uri: COUNTER_URI });
      return { content: [{ type: 'text', text: String(counter) }] };
    },
  );
  return server;
}

type AnyRequest = IncomingMessage | http2.Http2ServerRequest;

/** The SDK sets `Connection: keep-alive` on SSE responses; HTTP/2 forbids it (node warns). */
function dropConnectionHeader(res: http2.Http2ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: unknown) => unknown;
  (res as unknown as { writeHead: typeof writeHead }).writeHead = (status, headers) => {
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      const { connection: _c, Connection: _C, ...rest } = headers as Record<string, unknown>;
      return writeHead(status, rest);
    }
    return writeHead(status, headers);
  };
}
type AnyResponse = ServerResponse | http2.Http2ServerResponse;

/** Starts the example upstream; resolves once it listens. */
export async function startExampleUpstream(
  options: ExampleUpstreamOptions = {},
): Promise<ExampleUpstream> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const stats = { cancelled: 0 };
  const authorizations: string[] = [];

  const onRequest = (req: AnyRequest, res: AnyResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  };

  async function handle(req: AnyRequest, res: AnyResponse): Promise<void> {
    if ((req.url ?? '').split('?')[0] !== '/mcp') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const authorization = req.headers.authorization;
    if (typeof authorization === 'string') authorizations.push(authorization);
    const sessionId = req.headers['mcp-session-id'];
    const nodeReq = req as IncomingMessage;
    const nodeRes = res as ServerResponse;
    if (req.httpVersionMajor === 2) dropConnectionHeader(res as http2.Http2ServerResponse);
    if (typeof sessionId === 'string') {
      const transport = transports.get(sessionId);
      if (!transport) {
        res.statusCode = 404;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: { code: -32001, message: 'Session not found' },
          }),
        );
        return;
      }
      await transport.handleRequest(nodeReq, nodeRes);
      return;
    }
    // No session: this must be an initialize POST; the transport checks it.
    if (self.refuseNewSessions) {
      res.statusCode = 503;
      res.end();
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.jsonResponse ?? false,
      onsessioninitialized: (id) => {
        transports.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) transports.delete(transport.sessionId);
    };
    await createExampleServer(stats).connect(transport);
    await transport.handleRequest(nodeReq, nodeRes);
  }

  const useHttp2 = options.http2 ?? true;
  const server = useHttp2
    ? http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, onRequest)
    : http.createServer(onRequest);
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  if (useHttp2) {
    (server as http2.Http2Server).on('session', (s) => {
      h2Sessions.add(s);
      s.once('close', () => h2Sessions.delete(s));
    });
  }
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';

  const forgetSessions = async (): Promise<void> => {
    const all = [...transports.values()];
    transports.clear();
    await Promise.allSettled(all.map((t) => t.close()));
  };

  const self: ExampleUpstream = {
    refuseNewSessions: false,
    url: `http://${host}:${port}/mcp`,
    get sessionCount() {
      return transports.size;
    },
    get authorizations() {
      return authorizations;
    },
    get cancelledCount() {
      return stats.cancelled;
    },
    forgetSessions,
    async close() {
      await forgetSessions();
      for (const s of h2Sessions) s.destroy();
      if (server instanceof http.Server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}
