/**
 * Child process: an MCP reverse proxy built from the official SDK v1 alone, the way a user
 * would build one: per downstream session, a `StreamableHTTPServerTransport` (JSON mode) facing
 * the client and a `StreamableHTTPClientTransport` facing the upstream, messages forwarded raw
 * in both directions (no McpServer/Client logic in between).
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { childArgs, serveHttp1Child } from './ipc.ts';

const upstreamUrl = new URL(childArgs().upstream ?? 'http://127.0.0.1:1/mcp');
const sessions = new Map<string, StreamableHTTPServerTransport>();

function errorFor(message: JSONRPCMessage, error: unknown): JSONRPCMessage | undefined {
  if (!('id' in message) || !('method' in message)) return undefined;
  return {
    jsonrpc: '2.0',
    id: message.id,
    error: { code: -32603, message: error instanceof Error ? error.message : String(error) },
  };
}

async function openSession(): Promise<StreamableHTTPServerTransport> {
  const upstream = new StreamableHTTPClientTransport(upstreamUrl);
  const downstream = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => {
      sessions.set(id, downstream);
    },
  });
  downstream.onmessage = (message) => {
    upstream.send(message).catch((error: unknown) => {
      const reply = errorFor(message, error);
      if (reply) downstream.send(reply).catch(() => {});
    });
  };
  upstream.onmessage = (message) => {
    if ('result' in message) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') upstream.setProtocolVersion(version);
    }
    downstream.send(message).catch(() => {});
  };
  downstream.onclose = () => {
    if (downstream.sessionId !== undefined) sessions.delete(downstream.sessionId);
    upstream.close().catch(() => {});
  };
  await upstream.start();
  await downstream.start();
  return downstream;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
  await (await openSession()).handleRequest(req, res);
}

serveHttp1Child(handle);
