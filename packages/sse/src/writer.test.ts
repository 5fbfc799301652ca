import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import http2, { type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ConnectionClosedError } from '@mcp/connection-core';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSseStream, type SseEvent } from './decode.ts';
import { SseWriter, type SseWriterOptions } from './writer.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTP/1.1 server whose handler receives an SseWriter; resolves with the first writer. */
async function http1Server(options: SseWriterOptions = {}) {
  const writers: SseWriter[] = [];
  let onWriter: (w: SseWriter) => void = () => {};
  const server = http.createServer((_req, res) => {
    const writer = new SseWriter(res, options);
    writers.push(writer);
    onWriter(writer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    for (const w of writers) w.close();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const nextWriter = () => new Promise<SseWriter>((resolve) => (onWriter = resolve));
  return { port: (server.address() as AddressInfo).port, nextWriter };
}

function get(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/' }, resolve);
    req.on('error', reject);
    cleanups.push(() => {
      req.destroy();
    });
  });
}

describe('SseWriter over HTTP/1.1', () => {
  it('sends the SSE headers at once and events a reader decodes', async () => {
    const { port, nextWriter } = await http1Server();
    const writerReady = nextWriter();
    const res = await get(port);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers.connection).toBe('keep-alive');
    const writer = await writerReady;
    const events = parseSseStream(res);
    await writer.send({ id: '1', data: 'hello\nworld' });
    expect((await events.next()).value).toEqual({ id: '1', data: 'hello\nworld' });
    writer.close();
    expect(writer.closed).toBe(true);
    expect(writer.signal.aborted).toBe(true);
    expect((await events.next()).done).toBe(true);
    await expect(writer.send({ data: 'late' })).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('writes keep-alive comments while idle', async () => {
    const { port, nextWriter } = await http1Server({ keepAliveIntervalMs: 10 });
    const writerReady = nextWriter();
    const res = await get(port);
    await writerReady;
    let text = '';
    for await (const chunk of res) {
      text += String(chunk);
      if (text.includes(': keep-alive\n\n')) break;
    }
    expect(text).toContain(': keep-alive\n\n');
  });

  it('waits for drain under backpressure and rejects once the client goes away', async () => {
    const { port, nextWriter } = await http1Server({ keepAliveIntervalMs: 0 });
    const writerReady = nextWriter();
    const res = await get(port);
    const writer = await writerReady;
    res.pause();
    const big = 'x'.repeat(64 * 1024);
    let pending: Promise<void> | undefined;
    // Socket buffers are finite: some send must end up waiting for drain. Bounded loop.
    for (let i = 0; i < 10_000 && pending === undefined; i++) {
      const sent = writer.send({ data: big });
      const settled = await Promise.race([
        sent.then(() => true),
        new Promise((r) => setImmediate(r, false)),
      ]);
      if (!settled) pending = sent;
    }
    expect(pending).toBeDefined();
    const aborted = once(writer.signal, 'abort');
    res.destroy();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await aborted;
    expect(writer.closed).toBe(true);
  });
});

describe('SseWriter over HTTP/2', () => {
  it('sends SSE headers without Connection and streams events', async () => {
    let onWriter: (w: SseWriter) => void = () => {};
    const server = http2.createServer((_req, res: Http2ServerResponse) => {
      onWriter(new SseWriter(res));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          session.destroy();
          server.close(() => resolve());
        }),
    );
    const writerReady = new Promise<SseWriter>((resolve) => (onWriter = resolve));
    const stream = session.request({ ':path': '/' });
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    expect(headers['content-type']).toBe('text/event-stream');
    expect(headers.connection).toBeUndefined();
    const writer = await writerReady;
    const events = parseSseStream(stream);
    const sent: SseEvent[] = [
      { id: 'a', data: '{"jsonrpc":"2.0","method":"x"}' },
      { id: 'b', event: 'message', data: '' },
    ];
    for (const e of sent) await writer.send(e);
    expect((await events.next()).value).toEqual(sent[0]);
    expect((await events.next()).value).toEqual(sent[1]);
    const closed = once(writer.signal, 'abort');
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    expect(writer.closed).toBe(true);
    await expect(writer.send({ data: 'late' })).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
