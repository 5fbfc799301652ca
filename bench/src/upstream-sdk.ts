/**
 * Child process: the official SDK v1 server (`McpServer` + `StreamableHTTPServerTransport`,
 * JSON responses, stateful sessions) on node:http, with the same echo and sleep tools as the
 * fast upstream. Counts accepted TCP connections.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { serveHttp1Child } from './ipc.ts';
import { ECHO_TOOL, SLEEP_MS, SLEEP_TOOL } from './mcp-echo.ts';

const transports = new Map<string, StreamableHTTPServerTransport>();

function createSessionServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk-upstream', version: '1.0.0' });
  server.registerTool(
    ECHO_TOOL,
    { description: 'Echoes its text argument.', inputSchema: { text: z.string().optional() } },
    ({ text }) => ({ content: [{ type: 'text', text: text ?? '' }] }),
  );
  server.registerTool(SLEEP_TOOL, { description: `Answers after ${SLEEP_MS} ms.` }, async () => {
    await new Promise((resolve) => setTimeout(resolve, SLEEP_MS));
    return { content: [{ type: 'text', text: 'slept' }] };
  });
  return server;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const header = req.headers['mcp-session-id'];
  const sessionId = Array.isArray(header) ? header[0] : header;
  const existing = sessionId === undefined ? undefined : transports.get(sessionId);
  if (existing) {
    await existing.handleRequest(req, res);
    return;
  }
  if (sessionId !== undefined || req.method !== 'POST') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
    return;
  }
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => {
      transports.set(id, transport);
    },
  });
  transport.onclose = () => {
    if (transport.sessionId !== undefined) transports.delete(transport.sessionId);
  };
  await createSessionServer().connect(transport);
  await transport.handleRequest(req, res);
}

serveHttp1Child(handle);
