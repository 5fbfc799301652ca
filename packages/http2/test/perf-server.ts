// A minimal h2c MCP-ish echo server for perf probes; prints its port.
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    const m = text.length > 0 ? JSON.parse(text) : {};
    if (m.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (m.method === 'initialize') headers['mcp-session-id'] = 's1';
    res.writeHead(200, headers);
    res.end(
      JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25' } }),
    );
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log((server.address() as AddressInfo).port);
});
