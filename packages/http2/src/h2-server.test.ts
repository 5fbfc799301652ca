import {
  HttpStatusError,
  InvalidOptionsError,
  QueueFullError,
  SessionExpiredError,
  UnexpectedContentTypeError,
} from '@mcp/connection-core';
import { Pool } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type H2Server,
  makeCertificate,
  startH2Server,
  type TestCertificate,
} from '../test/h2-server.ts';
import { closeAfterEach, initialized, initializeRequest, request } from '../test/helpers.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';
import type { Http2ConnectionOptions } from './options.ts';

let certificate: TestCertificate;
const own = closeAfterEach();
let server: H2Server | undefined;

beforeAll(() => {
  certificate = makeCertificate();
});

async function open(
  serverOptions: Parameters<typeof startH2Server>[0] & { reuse?: H2Server },
  options: Partial<Http2ConnectionOptions> = {},
): Promise<Http2Connection> {
  server = serverOptions.reuse ?? own(await startH2Server(serverOptions));
  const tls = serverOptions?.tls !== undefined && options.dispatcher === undefined;
  const connection = own(
    createHttp2Connection({
      url: server.url,
      h2c: serverOptions?.tls === undefined && options.dispatcher === undefined,
      ...(tls ? { tls: { ca: certificate.cert } } : {}),
      ...options,
    }),
  );
  await connection.request(initializeRequest());
  await connection.notify(initialized);
  return connection;
}

/** A caller's h2c dispatcher for `server`, to see when undici drops a connection. */
function h2cPool(): Pool {
  const pool = new Pool(new URL(server?.url ?? '').origin, {
    allowH2: true,
    useH2c: true,
  } as Pool.Options);
  return own(pool);
}

/** Resolves when `pool` loses a connection; rejects after 5 s saying so. */
function disconnected(pool: Pool, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: undici kept the connection`)), 5_000);
    pool.once('disconnect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('over h2c (node:http2 fixture)', () => {
  it('runs 200 concurrent requests as streams of exactly one TCP connection', async () => {
    const conn = await open({});
    expect(conn.isMultiplexed).toBe(true);
    (server as H2Server).holdUntilOpen = 100;
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => conn.request(request('tools/call', { n: i }))),
    );
    expect(responses.map((r) => (r as { result: { echo: { n: number } } }).result.echo.n)).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(server?.connections).toBe(1);
    expect(server?.maxOpen).toBeGreaterThanOrEqual(100);
    const posts = server?.posts ?? [];
    expect(posts.length).toBe(201); // initialized + 200 calls
    for (const post of posts) {
      expect(post.sessionId).toBe(conn.sessionId);
      expect(post.protocolVersion).toBe('2025-11-25');
    }
  });

  it('completes 2,000 sequential requests on one reused session without a stall', async () => {
    const conn = await open({});
    for (let i = 0; i < 2000; i++) {
      const response = await conn.request(request('ping'));
      expect(response).toHaveProperty('result');
    }
    expect(server?.connections).toBe(1);
    expect(conn.metrics.snapshot().requests.succeeded).toBe(2001);
  }, 60_000);

  it('recovers after GOAWAY: the next requests go over a new connection', async () => {
    server = own(await startH2Server({}));
    const pool = h2cPool();
    const conn = await open({ reuse: server }, { dispatcher: pool });
    await conn.request(request('ping'));
    const gone = disconnected(pool, 'GOAWAY');
    server.goaway();
    await gone; // requests racing the GOAWAY may fail; later ones must not
    for (let i = 0; i < 5; i++) await conn.request(request('ping'));
    expect(server.connections).toBe(2);
  });

  it('recovers after the server destroys the session', async () => {
    server = own(await startH2Server({}));
    const pool = h2cPool();
    const conn = await open({ reuse: server }, { dispatcher: pool });
    await conn.request(request('ping'));
    const gone = disconnected(pool, 'destroyed session');
    server.destroyConnections();
    await gone;
    for (let i = 0; i < 5; i++) await conn.request(request('ping'));
    expect(server.connections).toBe(2);
  });

  it('a restarted server (session gone) gives SessionExpiredError', async () => {
    const conn = await open({});
    server?.forgetSessions();
    await expect(conn.request(request('ping'))).rejects.toBeInstanceOf(SessionExpiredError);
  });

  it('with reinitialize, a restarted server gets a new session and the request succeeds', async () => {
    const conn = await open({}, { reinitialize: true });
    const first = conn.sessionId;
    server?.forgetSessions();
    const responses = await Promise.all([
      conn.request(request('ping')),
      conn.request(request('ping')),
    ]);
    expect(responses).toHaveLength(2);
    expect(conn.sessionId).not.toBe(first);
    const last = server?.posts.at(-1);
    expect(last?.sessionId).toBe(conn.sessionId);
  });

  it('with reinitialize, concurrent requests that find the session gone share one replay', async () => {
    const conn = await open({}, { reinitialize: true, serverStream: false });
    const fixture = server as H2Server;
    expect(fixture.initializes).toBe(1);
    fixture.forgetSessions();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, n) => conn.request(request('tools/call', { n }))),
    );
    expect(responses.map((r) => (r as { result: { echo: { n: number } } }).result.echo.n)).toEqual(
      Array.from({ length: 10 }, (_, n) => n),
    );
    expect(fixture.initializes).toBe(2);
    const replayedInitialized = fixture.posts.filter(
      (p) => p.method === 'notifications/initialized',
    );
    expect(replayedInitialized.map((p) => p.sessionId)).toEqual([
      expect.any(String),
      conn.sessionId,
    ]);
  });

  it('queues beyond maxConcurrentRequests and refuses beyond maxQueuedRequests', async () => {
    const conn = await open(
      {},
      { serverStream: false, maxConcurrentRequests: 2, maxQueuedRequests: 1 },
    );
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = 0;
    let running = 0;
    let maxRunning = 0;
    (server as H2Server).intercept = async (_req, res, message) => {
      if (!['a', 'b', 'c'].includes(message?.method ?? '')) return false;
      running++;
      maxRunning = Math.max(maxRunning, running);
      res.on('close', () => running--);
      if (message?.method === 'a' || message?.method === 'b') {
        if (++held === 2) release();
        await gate;
      }
      return false;
    };
    const first = [
      conn.request(request('a')),
      conn.request(request('b')),
      conn.request(request('c')),
    ];
    await expect(conn.request(request('d'))).rejects.toBeInstanceOf(QueueFullError);
    const done = await Promise.all(first);
    expect(done).toHaveLength(3);
    expect(maxRunning).toBe(2);
  });

  it('calls a headers function per request (async credentials)', async () => {
    let n = 0;
    const conn = await open(
      {},
      { serverStream: false, headers: async () => ({ Authorization: `Bearer t${++n}` }) },
    );
    await conn.request(request('ping'));
    await conn.request(request('ping'));
    const auths = server?.posts.map((p) => p.authorization);
    expect(auths).toEqual(['Bearer t2', 'Bearer t3', 'Bearer t4']);
  });

  it("sends a message's own headers over the connection's, never over the protocol's", async () => {
    const conn = await open(
      {},
      { serverStream: false, headers: { authorization: 'Bearer fixed' } },
    );
    const own = { Authorization: 'Bearer own', 'mcp-session-id': 'forged' };
    await conn.request(request('ping'), { headers: own });
    await conn.notify({ jsonrpc: '2.0', method: 'notifications/x' }, { headers: own });
    await conn.request(request('ping'));
    const posts = (server as H2Server).posts.slice(-3);
    expect(posts.map((p) => p.authorization)).toEqual(['Bearer own', 'Bearer own', 'Bearer fixed']);
    expect(posts.every((p) => p.sessionId === conn.sessionId)).toBe(true);
  });

  it('reports statuses and content types as typed errors, with a bounded excerpt', async () => {
    const conn = await open({});
    (server as H2Server).intercept = (_req, res, message) => {
      if (message?.method === 'boom') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('x'.repeat(10_000));
        return true;
      }
      if (message?.method === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html></html>');
        return true;
      }
      return false;
    };
    const boom = await conn.request(request('boom')).catch((e: unknown) => e);
    expect(boom).toBeInstanceOf(HttpStatusError);
    expect((boom as HttpStatusError).status).toBe(500);
    expect((boom as HttpStatusError).bodyExcerpt.length).toBe(2048);
    await expect(conn.request(request('html'))).rejects.toBeInstanceOf(UnexpectedContentTypeError);
    const failed = conn.metrics.snapshot().requests.failedByCode;
    expect(failed).toEqual({ MCP_HTTP_STATUS: 1, MCP_UNEXPECTED_CONTENT_TYPE: 1 });
  });

  it('reads an array body (batch-era servers)', async () => {
    const conn = await open({});
    (server as H2Server).intercept = (_req, res, message) => {
      if (message?.method !== 'batchy') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ jsonrpc: '2.0', id: message.id, result: { ok: 1 } }]));
      return true;
    };
    await expect(conn.request(request('batchy'))).resolves.toHaveProperty('result.ok', 1);
  });

  it('close() rejects in-flight requests with ConnectionClosedError and DELETEs the session', async () => {
    const conn = await open({});
    (server as H2Server).holdUntilOpen = 1000;
    const pending = conn.request(request('never')).catch((e: unknown) => e);
    await expect
      .poll(() => server?.posts.some((p) => p.method === 'never'), {
        message: 'the request never reached the server',
      })
      .toBe(true);
    const id = conn.sessionId;
    await conn.close();
    expect(await pending).toMatchObject({ code: 'MCP_CONNECTION_CLOSED' });
    expect(server?.deleted).toEqual([id]);
  });
});

describe('over TLS', () => {
  it('negotiates h2 by ALPN and runs 100 concurrent requests on one connection', async () => {
    const conn = await open({ tls: certificate });
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => conn.request(request('ping'))),
    );
    expect(responses).toHaveLength(100);
    expect(conn.httpProtocol).toBe('h2');
    expect(conn.isMultiplexed).toBe(true);
    expect(server?.connections).toBe(1);
  });

  it('falls back to HTTP/1.1 when ALPN offers only http/1.1', async () => {
    const conn = await open({ tls: certificate, http1Only: true });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => conn.request(request('ping'))),
    );
    expect(responses).toHaveLength(10);
    expect(conn.httpProtocol).toBe('h1');
    expect(conn.isMultiplexed).toBe(false);
  });

  it('refuses a certificate it cannot verify', async () => {
    server = own(await startH2Server({ tls: certificate }));
    const connection = own(createHttp2Connection({ url: server.url }));
    await expect(connection.request(initializeRequest())).rejects.toMatchObject({
      code: 'MCP_TRANSPORT',
    });
  });
});

describe('options', () => {
  it('throws InvalidOptionsError naming the bad option', () => {
    const bad = (options: unknown) => {
      try {
        createHttp2Connection(options as Http2ConnectionOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionsError);
        return (error as InvalidOptionsError).issues.map((i) => i.path);
      }
      throw new Error('no error');
    };
    expect(bad({ url: 'ftp://x' })).toEqual(['url']);
    expect(bad({ url: 'http://x', maxConcurrentRequests: 0 })).toEqual(['maxConcurrentRequests']);
    expect(bad({ url: 'https://x', h2c: true })).toEqual(['h2c']);
    expect(bad({ url: 'http://x', reconnection: { factor: 0.5 } })).toEqual([
      'reconnection.factor',
    ]);
    expect(bad({ url: 'http://x', serverStream: true })).toEqual(['serverStream']);
    expect(bad({ url: 'http://x', dispatcher: {} })).toEqual(['dispatcher']);
  });
});
