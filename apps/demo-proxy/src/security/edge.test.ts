/**
 * Every connection and stream has a time limit, and the number of connections a cap: each
 * probe of issue #13 as a bounded test against a real proxy on 127.0.0.1. Limits are set short
 * so that each test ends in well under a second; the test timeout bounds a regression.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../config.ts';
import {
  type Harness,
  INITIALIZE,
  MCP_HEADERS,
  raw,
  rawSession,
  startHarness,
} from '../test-support.ts';
import { skipWithoutOpenssl, writeSelfSignedCertificate } from '../test-tls.ts';

const { NGHTTP2_CANCEL } = http2.constants;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(
  overrides: Partial<ProxyConfigInput>,
  logs?: { write(line: string): void },
): Promise<Harness> {
  harness = await startHarness({}, overrides, logs);
  return harness;
}

/** `mcp_proxy_edge_limits_total{limit}`, read from the proxy's registry. */
async function edgeCount(h: Harness, limit: string): Promise<number> {
  const { values } = await h.proxy.context.metrics.edgeLimits.get();
  return values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

/** Resolves once `socket` is closed by the other side. */
async function closedByServer(socket: net.Socket): Promise<void> {
  socket.on('error', () => {});
  socket.resume();
  if (!socket.destroyed) await once(socket, 'close');
}

describe('connection limits', () => {
  it('closes an h2c connection that stays idle after its preface (GOAWAY)', async () => {
    const h = await start({ edge: { connectionIdleTimeoutMs: 200 } });
    const session = http2.connect(h.proxy.url);
    session.on('error', () => {});
    const [code] = (await once(session, 'goaway')) as [number];
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await once(session, 'close');
    expect(await edgeCount(h, 'connection_idle')).toBeGreaterThanOrEqual(1);
  });

  it('closes an h2c connection whose preface is followed by no request (headers timeout)', async () => {
    const h = await start({ limits: { headersTimeoutMs: 200 } });
    const socket = net.connect(h.proxy.port, '127.0.0.1');
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    // An empty SETTINGS frame: the client's preface is complete, then silence.
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    await closedByServer(socket);
    expect(await edgeCount(h, 'headers_timeout')).toBeGreaterThanOrEqual(1);
  });

  it('leaves an h2c connection that has sent a request alone when the headers timeout passes', async () => {
    const h = await start({ limits: { headersTimeoutMs: 200 } });
    const session = http2.connect(h.proxy.url);
    session.on('error', () => {});
    const status = async (): Promise<unknown> => {
      const req = session.request({ ':path': '/healthz' });
      req.end();
      req.resume();
      const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
      return headers[':status'];
    };
    expect(await status()).toBe(200);
    // A silent connection opened now is closed by its headers timeout, which started later than
    // the first connection's would have.
    const silent = net.connect(h.proxy.port, '127.0.0.1');
    silent.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    silent.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    await closedByServer(silent);
    expect(await status()).toBe(200);
    session.close();
  });

  it('caps open connections: past the cap new ones are closed at once, and freed slots serve again', async () => {
    const h = await start({ edge: { maxConnections: 3 } });
    const held = await Promise.all(
      [1, 2, 3].map(async () => {
        const socket = net.connect(h.proxy.port, '127.0.0.1');
        await once(socket, 'connect');
        return socket;
      }),
    );
    const extra = net.connect(h.proxy.port, '127.0.0.1');
    await closedByServer(extra);
    for (const socket of held) socket.destroy();
    await Promise.all(held.map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    // The server counts a connection as gone once it sees the close: retry until it does.
    let health = await raw(`${h.proxy.url}/healthz`, { method: 'GET' }).catch(() => undefined);
    for (let i = 0; health === undefined && i < 50; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      health = await raw(`${h.proxy.url}/healthz`, { method: 'GET' }).catch(() => undefined);
    }
    expect(health?.status).toBe(200);
    expect(await edgeCount(h, 'connections')).toBeGreaterThanOrEqual(1);
  });
});

describe('stream limits', () => {
  it('answers 408 to a request body that never finishes', async () => {
    const h = await start({ edge: { bodyTimeoutMs: 200 } });
    const session = http2.connect(h.proxy.url);
    session.on('error', () => {});
    const req = session.request({
      ':method': 'POST',
      ':path': '/example/mcp',
      ...MCP_HEADERS,
      'content-length': '1000',
    });
    req.write('{"jsonrpc":');
    const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    expect(headers[':status']).toBe(408);
    session.destroy();
    expect(await edgeCount(h, 'body_timeout')).toBe(1);
  });

  it('logs a client that leaves mid-body at debug, without a stack', async () => {
    const lines: Array<{ level: number; msg: string; err?: unknown }> = [];
    let left: () => void = () => {};
    const logged = new Promise<void>((resolve) => {
      left = resolve;
    });
    const logs = {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        lines.push(entry);
        if (entry.msg === 'client went away') left();
      },
    };
    const h = await start({ logLevel: 'debug' }, logs);
    const session = http2.connect(h.proxy.url);
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': '/example/mcp', ...MCP_HEADERS });
    req.on('error', () => {});
    req.write('{"jsonrpc":"2.0",');
    await once(session, 'remoteSettings');
    req.close(NGHTTP2_CANCEL);
    await logged;
    session.destroy();
    // pino levels: 20 debug, 50 error.
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.find((l) => l.msg === 'client went away')?.level).toBe(20);
  });

  it('resets the stream of a client that never reads its answer (write timeout)', async () => {
    const h = await start({
      limits: { requestTimeoutMs: 100, keepAliveMs: 50 },
      edge: { writeTimeoutMs: 300 },
    });
    // A window of 0: the proxy can send headers but not one byte of the body.
    const session = http2.connect(h.proxy.url, { settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': '/example/mcp', ...MCP_HEADERS });
    req.on('error', () => {});
    req.end(JSON.stringify(INITIALIZE));
    await once(req, 'close');
    expect(req.rstCode).toBe(NGHTTP2_CANCEL);
    session.destroy();
    expect(await edgeCount(h, 'write_timeout')).toBe(1);
  });

  it('keeps an SSE stream that makes progress open past the write timeout', async () => {
    // Keep-alive comments every 50 ms are progress; five write timeouts pass without a reset.
    const h = await start({
      limits: { requestTimeoutMs: 100, keepAliveMs: 50 },
      edge: { writeTimeoutMs: 300 },
    });
    const id = await rawSession(h.endpoint);
    const session = http2.connect(h.proxy.url);
    session.on('error', () => {});
    const req = session.request({
      ':method': 'GET',
      ':path': '/example/mcp',
      accept: 'text/event-stream',
      'mcp-session-id': id,
    });
    req.on('error', () => {});
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    expect(headers[':status']).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(req.closed).toBe(false);
    expect(text).toContain(':');
    expect(await edgeCount(h, 'write_timeout')).toBe(0);
    req.close();
    session.destroy();
  });

  it('ends an exchange whose related messages pass the byte budget, with a JSON-RPC error', async () => {
    const h = await start({ edge: { maxExchangeBufferBytes: 50 } });
    const id = await rawSession(h.endpoint);
    const res = await raw(h.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'progress', arguments: { steps: 50 }, _meta: { progressToken: 't' } },
      }),
    });
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.text).toContain('"code":-32010');
    expect(res.text).not.toContain('done 50 steps');
    expect(await edgeCount(h, 'exchange_buffer')).toBe(1);
  });
});

describe.skipIf(skipWithoutOpenssl)('TLS connection limits', () => {
  let dir: string;
  let files: { cert: string; key: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-proxy-edge-tls-'));
    files = writeSelfSignedCertificate(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tlsListen = (): ProxyConfigInput['listen'] => ({ host: '127.0.0.1', port: 0, tls: files });

  it('closes a TCP connection that never starts its TLS handshake', async () => {
    const h = await start({ listen: tlsListen(), edge: { handshakeTimeoutMs: 200 } });
    const socket = net.connect(h.proxy.port, '127.0.0.1');
    await closedByServer(socket);
    expect(await edgeCount(h, 'handshake_timeout')).toBeGreaterThanOrEqual(1);
  });

  it('closes a TLS connection that sends no request (HTTP/1.1 and HTTP/2)', async () => {
    const h = await start({ listen: tlsListen(), limits: { headersTimeoutMs: 200 } });
    for (const protocol of ['http/1.1', 'h2']) {
      const socket = tls.connect({
        port: h.proxy.port,
        host: '127.0.0.1',
        rejectUnauthorized: false,
        ALPNProtocols: [protocol],
      });
      await once(socket, 'secureConnect');
      expect(socket.alpnProtocol).toBe(protocol);
      await closedByServer(socket);
    }
    expect(await edgeCount(h, 'headers_timeout')).toBe(2);
  });
});
