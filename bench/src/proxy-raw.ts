/**
 * Child process: the proxy floor. A node:http + node:http2 (h2c by preface) front that forwards
 * every request's bytes to the upstream with undici `request()` (h2c or HTTP/1.1, like our
 * proxy), and the response's bytes back: no MCP logic, no validation, no metrics. What two HTTP
 * hops cost in Node on this box, for judging our proxy's own CPU per call.
 */
import type http from 'node:http';
import { Agent, type Dispatcher, H2CClient } from 'undici';
import { childArgs, serveHttp1Child } from './ipc.ts';

const args = childArgs();
const upstream = new URL(args.upstream ?? 'http://127.0.0.1:1/mcp');
const dispatcher: Dispatcher =
  args.h2c === 'true'
    ? new H2CClient(upstream.origin, { maxConcurrentStreams: 1_000 })
    : new Agent({ connections: 4 });

const FORWARDED = [
  'content-type',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
];

function forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  dispatcher
    .request({
      origin: upstream.origin,
      path: upstream.pathname,
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: body.length > 0 ? body : null,
    })
    .then(async (response) => {
      const out: Record<string, string> = {};
      for (const name of ['content-type', 'mcp-session-id', 'allow']) {
        const value = response.headers[name];
        if (typeof value === 'string') out[name] = value;
      }
      res.writeHead(response.statusCode, out);
      for await (const chunk of response.body) res.write(chunk);
      res.end();
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
}

serveHttp1Child(
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
  },
  () => dispatcher.close(),
);
