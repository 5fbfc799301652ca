/**
 * A request names exactly one host (issue #13, item 5): a duplicate Host, a missing one
 * (HTTP/1.0), or an HTTP/2 Host that differs from :authority gets 400. Raw bytes over
 * net.Socket, since HTTP clients will not send these.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './test-support.ts';

/** Sends `head` on a new connection; resolves the status line of the answer. */
async function statusLine(port: number, head: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => {
    received += chunk;
    if (received.includes('\r\n')) socket.destroy();
  });
  socket.write(head);
  await once(socket, 'close');
  return received.split('\r\n')[0] ?? '';
}

describe('Host header checks', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('answers 400 to a duplicate Host, even when the first one is allowed', async () => {
    const line = await statusLine(
      harness.proxy.port,
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n',
    );
    expect(line).toBe('HTTP/1.1 400 Bad Request');
  });

  it('answers 400 to an HTTP/1.0 request without Host, and 200 with one', async () => {
    const without = await statusLine(harness.proxy.port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(without).toBe('HTTP/1.1 400 Bad Request');
    const withHost = await statusLine(
      harness.proxy.port,
      'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n',
    );
    expect(withHost).toBe('HTTP/1.1 200 OK');
  });

  it('answers 400 to an HTTP/2 request whose Host differs from :authority', async () => {
    const session = http2.connect(harness.proxy.url);
    try {
      const status = async (headers: http2.OutgoingHttpHeaders) => {
        const stream = session.request({ ':path': '/healthz', ...headers });
        const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
        stream.resume();
        await once(stream, 'end');
        return response[':status'];
      };
      const authority = `127.0.0.1:${harness.proxy.port}`;
      expect(await status({ ':authority': authority, host: 'evil.example' })).toBe(400);
      expect(await status({ ':authority': authority, host: authority })).toBe(200);
      expect(await status({ ':authority': authority })).toBe(200);
    } finally {
      session.close();
    }
  });
});
