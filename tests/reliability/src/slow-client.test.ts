import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { INITIALIZE, MCP_HEADERS } from 'demo-proxy/src/test-support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from './fault-server.ts';
import { type Client, callTool, openClient, outcome, startProxyFor, within } from './harness.ts';

const HEADERS_TIMEOUT_MS = 1_000;

const H2_PREFACE_BYTES = 24;

/**
 * A TCP relay to `port` that passes a client's first 24 bytes (the HTTP/2 preface) one byte per
 * write, 5 ms apart (a slow client, not a wait), and the rest as it comes.
 */
async function slowPrefaceRelay(port: number) {
  let prefaceWrites = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    let head = Buffer.alloc(0);
    const onData = async (chunk: Buffer): Promise<void> => {
      head = Buffer.concat([head, chunk]);
      if (head.length < H2_PREFACE_BYTES) return;
      client.off('data', onData);
      client.pause();
      for (const byte of head.subarray(0, H2_PREFACE_BYTES)) {
        upstream.write(Buffer.of(byte));
        prefaceWrites++;
        await new Promise((r) => setTimeout(r, 5));
      }
      upstream.write(head.subarray(H2_PREFACE_BYTES));
      client.pipe(upstream);
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    prefaceWrites: () => prefaceWrites,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('slow downstream clients', () => {
  let upstream: FaultServer;
  let proxy: Awaited<ReturnType<typeof startProxyFor>>;
  let neighbour: Client;

  beforeAll(async () => {
    upstream = await startFaultServer();
    proxy = await startProxyFor(upstream.url, { limits: { headersTimeoutMs: HEADERS_TIMEOUT_MS } });
    neighbour = await openClient(proxy.endpoint);
  });
  afterAll(async () => {
    await neighbour?.close();
    await proxy?.proxy.close();
    await upstream?.close();
  });

  async function connect(): Promise<net.Socket> {
    const socket = net.connect(proxy.proxy.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => {});
    return socket;
  }

  /**
   * The socket's close. Not `once(socket, 'close')`: that rejects on 'error', and a proxy that
   * cuts a client off while it is still writing gets a reset back (ECONNRESET): a cut all the same.
   */
  const closed = (socket: net.Socket): Promise<void> =>
    new Promise((resolve) => socket.once('close', () => resolve()));

  it('a connection that sends nothing is closed after the headers timeout', async () => {
    const socket = await connect();
    await within(HEADERS_TIMEOUT_MS * 5, closed(socket), 'silent connection');
  });

  it('headers sent a byte at a time are cut off after the headers timeout', async () => {
    const socket = await connect();
    const head = 'POST /up/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
    socket.write(head);
    const trickle = setInterval(() => socket.write('a'), 200);
    try {
      const started = Date.now();
      const answer: Buffer[] = [];
      socket.on('data', (c: Buffer) => answer.push(c));
      await within(HEADERS_TIMEOUT_MS * 6, closed(socket), 'slow headers');
      expect(Date.now() - started).toBeLessThan(HEADERS_TIMEOUT_MS * 6);
      // Node answers 408 before closing, or just closes: either way, nothing else.
      const text = Buffer.concat(answer).toString();
      if (text !== '') expect(text).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('an HTTP/2 preface sent a byte at a time is told apart from HTTP/1.1 and served', async () => {
    // "P" starts both "POST" and the preface "PRI * HTTP/2.0...": the listener must wait for
    // enough bytes. A real HTTP/2 client goes through a relay that splits its first 24 bytes.
    const relay = await slowPrefaceRelay(proxy.proxy.port);
    const session = http2.connect(`http://127.0.0.1:${relay.port}`);
    session.on('error', () => {});
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/up/mcp',
        ...MCP_HEADERS,
      });
      stream.end(JSON.stringify(INITIALIZE));
      const [headers] = (await within(5_000, once(stream, 'response'), 'HTTP/2 answer')) as [
        http2.IncomingHttpHeaders,
      ];
      expect(headers[':status']).toBe(200);
      expect(headers['mcp-session-id']).toBeTypeOf('string');
      expect(relay.prefaceWrites()).toBe(H2_PREFACE_BYTES);
      stream.resume();
      await once(stream, 'end');
    } finally {
      session.destroy();
      await relay.close();
    }
  });

  it('the session beside them keeps working', async () => {
    expect(await outcome(callTool(neighbour.connection, 'echo', { text: 'fine' }))).toEqual({
      kind: 'result',
      text: 'fine',
    });
  });
});
