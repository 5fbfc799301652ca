/**
 * Child process: an MCP reverse proxy built from the official SDK v1 alone, the way a user
 * would build one: per downstream session, a `StreamableHTTPServerTransport` (JSON mode) facing
 * the client and a `StreamableHTTPClientTransport` facing the upstream, messages forwarded raw
 * in both directions (no McpServer/Client logic in between).
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { childArgs, serveHttp1Child } from './ipc.ts';
import { sdkSessionHandler } from './sdk-sessions.ts';

const upstreamUrl = new URL(childArgs().upstream ?? 'http://127.0.0.1:1/mcp');

function errorFor(message: JSONRPCMessage, error: unknown): JSONRPCMessage | undefined {
  if (!('id' in message) || !('method' in message)) return undefined;
  return {
    jsonrpc: '2.0',
    id: message.id,
    error: { code: -32603, message: error instanceof Error ? error.message : String(error) },
  };
}

/** Forwards a downstream session's messages to its own upstream session, and back. */
async function relay(downstream: StreamableHTTPServerTransport): Promise<void> {
  const upstream = new StreamableHTTPClientTransport(upstreamUrl);
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
  const forget = downstream.onclose;
  downstream.onclose = () => {
    forget?.();
    upstream.close().catch(() => {});
  };
  await upstream.start();
  await downstream.start();
}

serveHttp1Child(sdkSessionHandler(relay));
