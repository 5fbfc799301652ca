/**
 * Child process: the fast MCP echo upstream on `node:http2` (h2c), plus the same handler on a
 * node:http port for clients that only speak HTTP/1.1 (the official SDK clients ride fetch).
 * Counts the TCP connections both ports accept.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { send, serveChild } from './ipc.ts';
import { answerOther, answerPost, type EchoReply } from './mcp-echo.ts';

let accepted = 0;

// maxSessionMemory (MB; default 10): past it node refuses new streams with ENHANCE_YOUR_CALM,
// and sixteen 1 MB results waiting for a client's window hold more than 10 MB.
const h2 = http2.createServer({
  settings: { maxConcurrentStreams: 100_000 },
  maxSessionMemory: 256,
});
h2.on('connection', () => {
  accepted += 1;
});
h2.on('stream', (stream, headers) => {
  const method = headers[':method'] ?? 'GET';
  stream.on('error', () => {});
  const reply = (answer: EchoReply): void => {
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': answer.status, ...answer.headers });
    stream.end(answer.body);
  };
  if (method !== 'POST') {
    stream.resume();
    reply(answerOther(method));
    return;
  }
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    const answer = answerPost(Buffer.concat(chunks).toString());
    if (answer instanceof Promise) void answer.then(reply);
    else reply(answer);
  });
});

const h1 = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const reply = (answer: EchoReply): void => {
    if (res.destroyed) return;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };
  if (req.method !== 'POST') {
    req.resume();
    reply(answerOther(req.method ?? 'GET'));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const answer = answerPost(Buffer.concat(chunks).toString());
    if (answer instanceof Promise) void answer.then(reply);
    else reply(answer);
  });
});
h1.on('connection', () => {
  accepted += 1;
});

function listen(server: http.Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

serveChild({
  accepted: () => accepted,
  close: async () => {
    h1.closeAllConnections();
    await Promise.all([
      new Promise((resolve) => h1.close(resolve)),
      new Promise((resolve) => h2.close(resolve)),
    ]);
  },
});
const [h2Port, h1Port] = await Promise.all([listen(h2), listen(h1)]);
await send({ type: 'ready', ports: { h2: h2Port, h1: h1Port } });
