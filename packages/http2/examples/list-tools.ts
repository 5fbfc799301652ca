// Connects to an MCP server, initializes, and lists its tools.
//   pnpm --filter @mcp/http2 example http://127.0.0.1:3000/mcp [--h2c]
import { isJsonRpcErrorResponse, LATEST_PROTOCOL_VERSION } from '@mcp/connection-core';
import { createHttp2Connection } from '@mcp/http2';

const url = process.argv[2];
if (url === undefined) {
  console.error('usage: list-tools.ts <url> [--h2c]');
  process.exit(2);
}

await using connection = createHttp2Connection({ url, h2c: process.argv.includes('--h2c') });
const init = await connection.request({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'list-tools', version: '1.0.0' },
  },
});
if (isJsonRpcErrorResponse(init)) throw new Error(`initialize failed: ${init.error.message}`);
await connection.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
console.log(
  `session ${connection.sessionId ?? '(none)'}, protocol ${connection.protocolVersion}, ` +
    `${connection.isMultiplexed ? 'HTTP/2' : 'HTTP/1.1'}`,
);

const listed = await connection.request({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
if (isJsonRpcErrorResponse(listed)) throw new Error(`tools/list failed: ${listed.error.message}`);
const { tools = [] } = (listed as { result: unknown }).result as {
  tools?: Array<{ name: string; description?: string }>;
};
for (const tool of tools)
  console.log(`- ${tool.name}${tool.description ? `: ${tool.description}` : ''}`);
