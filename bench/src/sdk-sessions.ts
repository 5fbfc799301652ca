/**
 * Stateful SDK v1 sessions on node:http, as the SDK's own examples serve them: a request that
 * names a known session goes to its `StreamableHTTPServerTransport` (JSON responses), a POST
 * that names none opens a session, anything else is 404.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * The handler; `connect` wires a new session's transport (to an `McpServer`, or to an upstream)
 * and starts it. The transport forgets its session on close: wrap `onclose`, do not replace it.
 */
export function sdkSessionHandler(
  connect: (transport: StreamableHTTPServerTransport) => Promise<void>,
): Handler {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const open = async (): Promise<StreamableHTTPServerTransport> => {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await connect(transport);
    return transport;
  };
  return async (req, res) => {
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    const existing = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (existing) {
      await existing.handleRequest(req, res);
      return;
    }
    if (sessionId !== undefined || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    await (await open()).handleRequest(req, res);
  };
}
