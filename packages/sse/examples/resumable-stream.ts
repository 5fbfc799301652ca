/**
 * An HTTP/2 server writes JSON-RPC messages as SSE with SseWriter and drops the connection
 * halfway; a client reads them with ResumableSseStream + SseMessageReader, which resumes with
 * Last-Event-ID and never sees an event twice.
 *
 * Run: npx -y pnpm@12.21.0 --filter @mcp/sse example:resumable
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ResumableSseStream, SseMessageReader, SseWriter } from '@mcp/sse';

const messages = Array.from({ length: 6 }, (_, i) => ({
  jsonrpc: '2.0' as const,
  method: 'notifications/progress',
  params: { progressToken: 't', progress: i + 1, total: 6 },
}));

// The server: replays what follows Last-Event-ID; the first connection is cut after 3 events.
let connections = 0;
const server = http2.createServer(async (req, res) => {
  const after = Number(req.headers['last-event-id'] ?? -1);
  const writer = new SseWriter(res, { keepAliveIntervalMs: 1_000 });
  connections++;
  await writer.send({ id: `${after}`, retry: 100, data: '' }); // priming event (2025-11-25)
  for (let i = after + 1; i < messages.length; i++) {
    await writer.send({ id: String(i), data: JSON.stringify(messages[i]) });
    if (connections === 1 && i === 2) {
      req.socket.destroy(); // the network fails mid-stream
      return;
    }
  }
  writer.close();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// The client: `open` is called for the first stream and for every reconnection.
const sessions: http2.ClientHttp2Session[] = [];
const stream = new ResumableSseStream({
  open: async (lastEventId, signal) => {
    const session = http2.connect(origin);
    session.on('error', () => {});
    sessions.push(session);
    const headers: http2.OutgoingHttpHeaders = { ':path': '/events' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const request = session.request(headers, { signal });
    await once(request, 'response', { signal });
    return request;
  },
  maxAttempts: 3,
});
const reader = new SseMessageReader(stream);
let received = 0;
for await (const item of reader) {
  if (item.kind === 'invalid') throw item.error;
  console.log(`event ${item.eventId}:`, JSON.stringify(item.message.params));
  if (++received === messages.length) break;
}
console.log(
  `received ${received} messages over ${connections} connections; retry ${reader.retryMs} ms`,
);
for (const session of sessions) session.close();
server.close();
