/**
 * Child process: the official SDK v1 server (`McpServer` + `StreamableHTTPServerTransport`,
 * JSON responses, stateful sessions) on node:http, with the same echo and sleep tools as the
 * fast upstream. Counts accepted TCP connections.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveHttp1Child } from './ipc.ts';
import { ECHO_TOOL, SLEEP_MS, SLEEP_TOOL } from './mcp-echo.ts';
import { sdkSessionHandler } from './sdk-sessions.ts';

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

serveHttp1Child(sdkSessionHandler((transport) => createSessionServer().connect(transport)));
