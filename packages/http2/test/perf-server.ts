// A minimal MCP-ish echo server for perf probes, on h2c and on HTTP/1.1.
// Prints "<h2c port> <http/1.1 port>".
import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import type { AddressInfo } from 'node:net';

type Req = Pick<IncomingMessage, 'on'>;
type Res = Pick<ServerResponse, 'writeHead' | 'end'>;

function handler(req: Req, res: Res): void {
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
    const result =
      m.method === 'initialize'
        ? {
            protocolVersion: '2025-11-25',
            capabilities: {},
            serverInfo: { name: 'perf', version: '1' },
          }
        : {};
    res.writeHead(200, headers);
    res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
  });
}

const h2c = createH2cServer((req, res) => handler(req as unknown as Req, res as unknown as Res));
const http1 = createHttp1Server(handler);
h2c.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  http1.listen(0, '127.0.0.1', () => {
    const a = (h2c.address() as AddressInfo).port;
    const b = (http1.address() as AddressInfo).port;
    console.log(`${a} ${b}`);
  });
});
