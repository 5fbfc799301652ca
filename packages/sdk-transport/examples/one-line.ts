// The official SDK's Client over an @mcp/http2 connection (HTTP/2, h2c here), against the SDK's
// own server: `pnpm --filter @mcp/sdk-transport example:one-line`.
import { createHttp2Connection } from '@mcp/http2';
import { ConnectionTransport } from '@mcp/sdk-transport';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startV1Server } from '../test/server-v1.ts';

const server = await startV1Server('h2c');
const url = server.url;
try {
  const client = new Client({ name: 'my-agent', version: '1.0.0' });
  // Was: await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  await client.connect(new ConnectionTransport(createHttp2Connection({ url, h2c: true })));

  const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
  console.log(result.content); // [ { type: 'text', text: 'hello' } ]
  await client.close(); // also ends the session on the server (DELETE)
} finally {
  await server.close();
}
