import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from './fault-server.ts';
import { type Client, callTool, openClient, outcome, startProxyFor, within } from './harness.ts';

const HEADERS_TIMEOUT_MS = 1_000;

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

  it('a connection that sends nothing is closed after the headers timeout', async () => {
    const socket = await connect();
    await within(HEADERS_TIMEOUT_MS * 5, once(socket, 'close'), 'silent connection');
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
      await within(HEADERS_TIMEOUT_MS * 6, once(socket, 'close'), 'slow headers');
      expect(Date.now() - started).toBeLessThan(HEADERS_TIMEOUT_MS * 6);
      // Node answers 408 before closing, or just closes: either way, nothing else.
      const text = Buffer.concat(answer).toString();
      if (text !== '') expect(text).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('an HTTP/2 preface sent slowly is told apart from HTTP/1.1 and served', async () => {
    // One byte at a time: the listener must not decide on the first byte ("P" starts both).
    const socket = await connect();
    const request = 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n';
    for (const ch of request) {
      socket.write(ch);
      await new Promise((r) => setTimeout(r, 2));
    }
    const [chunk] = (await within(5_000, once(socket, 'data'), 'answer')) as [Buffer];
    expect(chunk.toString()).toMatch(/^HTTP\/1\.1 \d{3}/);
    socket.destroy();
  });

  it('the session beside them keeps working', async () => {
    expect(await outcome(callTool(neighbour.connection, 'echo', { text: 'fine' }))).toEqual({
      kind: 'result',
      text: 'fine',
    });
  });
});
