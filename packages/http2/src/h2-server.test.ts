import {
  HttpStatusError,
  InvalidOptionsError,
  QueueFullError,
  ReconnectFailedError,
  SessionExpiredError,
  TimeoutError,
  UnexpectedContentTypeError,
} from '@mcp/connection-core';
import { Pool } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type H2Server,
  makeCertificate,
  type Res,
  startH2Server,
  type TestCertificate,
} from '../test/h2-server.ts';
import { initialized, initializeRequest, request } from '../test/helpers.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';
import type { Http2ConnectionOptions } from './options.ts';

let certificate: TestCertificate;
let server: H2Server | undefined;
let connection: Http2Connection | undefined;
const ownedPools: Pool[] = [];

beforeAll(() => {
  certificate = makeCertificate();
});

afterEach(async () => {
  await connection?.close();
  for (const pool of ownedPools.splice(0)) await pool.destroy();
  await server?.close();
  connection = undefined;
  server = undefined;
});

async function open(
  serverOptions: Parameters<typeof startH2Server>[0],
  options: Partial<Http2ConnectionOptions> = {},
): Promise<Http2Connection> {
  server = await startH2Server(serverOptions);
  const tls = serverOptions?.tls !== undefined && options.dispatcher === undefined;
  connection = createHttp2Connection({
    url: server.url,
    h2c: serverOptions?.tls === undefined && options.dispatcher === undefined,
    ...(tls ? { tls: { ca: certificate.cert } } : {}),
    ...options,
  });
  await connection.request(initializeRequest());
  await connection.notify(initialized);
  return connection;
}

function sse(res: Res, events: string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
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

  it('completes thousands of sequential requests on one reused session', async () => {
    const conn = await open({});
    for (let i = 0; i < 2000; i++) {
      const response = await conn.request(request('ping'));
      expect(response).toHaveProperty('result');
    }
    expect(server?.connections).toBe(1);
    expect(conn.metrics.snapshot().requests.succeeded).toBe(2001);
  }, 60_000);

  it('recovers after GOAWAY: the next requests go over a new connection', async () => {
    const conn = await open({});
    await conn.request(request('ping'));
    server?.goaway();
    // Give the GOAWAY frame time to arrive; requests racing it may fail, later ones must not.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 5; i++) await conn.request(request('ping'));
    expect(server?.connections).toBe(2);
  });

  it('recovers after the server destroys the session', async () => {
    const conn = await open({});
    await conn.request(request('ping'));
    server?.destroyConnections();
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 5; i++) await conn.request(request('ping'));
    expect(server?.connections).toBe(2);
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

  it('keeps an idle SSE response alive past the dispatcher bodyTimeout', async () => {
    server = await startH2Server({});
    const pool = new Pool(new URL(server.url).origin, {
      allowH2: true,
      useH2c: true,
      bodyTimeout: 200,
    } as Pool.Options);
    ownedPools.push(pool);
    server.intercept = (_req, res, message) => {
      if (message?.method !== 'slow/sse') return false;
      sse(res, [': opened\n\n']);
      setTimeout(() => {
        res.end(
          `data: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { late: true } })}\n\n`,
        );
      }, 800);
      return true;
    };
    connection = createHttp2Connection({ url: server.url, dispatcher: pool });
    await connection.request(initializeRequest());
    const response = await connection.request(request('slow/sse'));
    expect(response).toHaveProperty('result.late', true);
  });

  it('keeps an idle GET stream alive past the dispatcher bodyTimeout', async () => {
    server = await startH2Server({});
    const pool = new Pool(new URL(server.url).origin, {
      allowH2: true,
      useH2c: true,
      bodyTimeout: 200,
    } as Pool.Options);
    ownedPools.push(pool);
    let gets = 0;
    server.intercept = (req, res) => {
      if (req.method !== 'GET') return false;
      gets++;
      sse(res, [': idle\n\n']);
      setTimeout(() => {
        res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/late' })}\n\n`);
      }, 800);
      return true;
    };
    connection = createHttp2Connection({ url: server.url, dispatcher: pool });
    await connection.request(initializeRequest());
    await connection.notify(initialized);
    await expect(connection.receive()).resolves.toMatchObject({ method: 'notifications/late' });
    expect(gets).toBe(1);
    // The protocol of a caller's dispatcher is read from undici's connect diagnostics.
    expect(connection.httpProtocol).toBe('h2');
  });

  it('aborting resets the HTTP/2 stream and tells the server', async () => {
    const conn = await open({}, { serverStream: false });
    let rstCode: number | undefined;
    let answered = true;
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const reset = new Promise<void>((resolve) => {
      (server as H2Server).intercept = (req, res, message) => {
        if (message?.method !== 'hang') return false;
        req.stream.on('close', () => {
          rstCode = req.stream.rstCode;
          answered = res.writableEnded;
          resolve();
        });
        arrived();
        return true; // never answers
      };
    });
    const controller = new AbortController();
    const message = request('hang');
    const pending = conn.request(message, { signal: controller.signal }).catch((e: unknown) => e);
    await arrival;
    controller.abort();
    expect(await pending).toMatchObject({ code: 'MCP_ABORTED' });
    await reset;
    // The client reset the stream (undici sends RST_STREAM, code NO_ERROR) before any answer.
    expect(answered).toBe(false);
    expect(rstCode).toBeTypeOf('number');
    await waitFor(() => (server?.cancelled.length ?? 0) === 1);
    expect(server?.cancelled[0]).toMatchObject({ requestId: message.id });
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

  it('resumes a POST stream that broke after an event id, with GET + Last-Event-ID', async () => {
    const conn = await open({}, { reconnection: { initialDelayMs: 10 } });
    const lastEventIds: string[] = [];
    let requestId: unknown;
    (server as H2Server).intercept = (req, res, message) => {
      if (message?.method === 'flaky') {
        requestId = message.id;
        sse(res, [
          'id: e1\ndata: \n\n',
          `id: e2\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n: 1 } })}\n\n`,
        ]);
        setTimeout(() => res.stream.close(2), 20); // RST_STREAM: the stream breaks
        return true;
      }
      if (req.method === 'GET' && typeof req.headers['last-event-id'] === 'string') {
        lastEventIds.push(req.headers['last-event-id']);
        sse(res, [
          `id: e3\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: requestId, result: { resumed: true } })}\n\n`,
        ]);
        res.end();
        return true;
      }
      return false;
    };
    const notes: unknown[] = [];
    const response = await conn.request(request('flaky'), { onMessage: (m) => notes.push(m) });
    expect(response).toHaveProperty('result.resumed', true);
    expect(lastEventIds).toEqual(['e2']);
    expect(notes).toHaveLength(1);
  });

  it('progress resets the timeout, up to the hard maximum', async () => {
    const conn = await open({}, { serverStream: false });
    (server as H2Server).intercept = (_req, res, message) => {
      if (message?.method !== 'long') return false;
      const token = (message.params as { _meta: { progressToken: string } })._meta.progressToken;
      sse(res, []);
      let n = 0;
      const timer = setInterval(() => {
        n++;
        if (n <= 8) {
          const progress = { progressToken: token, progress: n };
          res.write(
            `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: progress })}\n\n`,
          );
        } else {
          clearInterval(timer);
          res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { n } })}\n\n`);
        }
      }, 250);
      res.on('close', () => clearInterval(timer));
      return true;
    };
    const longCall = (progressToken: string) => ({
      ...request('long'),
      params: { _meta: { progressToken } },
    });
    // 900 ms of work, a 400 ms limit: progress every 100 ms keeps it alive.
    const done = await conn.request(longCall('a'), {
      timeoutMs: 1000,
      resetTimeoutOnProgress: true,
    });
    expect(done).toHaveProperty('result.n', 9);
    // The same with a hard maximum of 1.2 s: progress cannot extend past it.
    const error = await conn
      .request(longCall('b'), {
        timeoutMs: 1000,
        resetTimeoutOnProgress: true,
        maxTotalTimeoutMs: 1200,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect([1000, 1200]).toContain((error as TimeoutError).timeoutMs);
  });

  it('gives up resuming after maxAttempts with ReconnectFailedError', async () => {
    const conn = await open(
      {},
      { serverStream: false, reconnection: { initialDelayMs: 5, maxAttempts: 3 } },
    );
    let gets = 0;
    (server as H2Server).intercept = (req, res, message) => {
      if (message?.method === 'cut') {
        sse(res, ['id: only\ndata: \n\n']);
        res.end();
        return true;
      }
      if (req.method === 'GET') {
        gets++;
        res.writeHead(503).end();
        return true;
      }
      return false;
    };
    const error = await conn.request(request('cut')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectFailedError);
    expect((error as ReconnectFailedError).attempts).toBe(3);
    expect(gets).toBe(3);
  });

  it('fails with TransportError when a stream without event ids ends before the response', async () => {
    const conn = await open({}, { serverStream: false });
    (server as H2Server).intercept = (_req, res, message) => {
      if (message?.method !== 'cut') return false;
      sse(res, [`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/x' })}\n\n`]);
      res.end();
      return true;
    };
    await expect(conn.request(request('cut'))).rejects.toMatchObject({ code: 'MCP_TRANSPORT' });
  });

  it('delivers GET-stream messages to receive() and reopens the stream with Last-Event-ID', async () => {
    server = await startH2Server({});
    const gets: Array<string | undefined> = [];
    server.intercept = (req, res) => {
      if (req.method !== 'GET') return false;
      const last = req.headers['last-event-id'] as string | undefined;
      gets.push(last);
      const n = last === undefined ? 1 : Number(last) + 1;
      sse(res, [
        `retry: 10\nid: ${n}\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/n', params: { n } })}\n\n`,
      ]);
      res.end();
      return true;
    };
    connection = createHttp2Connection({ url: server.url, h2c: true });
    await connection.request(initializeRequest());
    await connection.notify(initialized);
    const first = await connection.receive();
    const second = await connection.receive();
    const third = await connection.receive();
    expect(
      [first, second, third].map((m) => (m as unknown as { params: { n: number } }).params.n),
    ).toEqual([1, 2, 3]);
    expect(gets.slice(0, 3)).toEqual([undefined, '1', '2']);
  });

  it('close() rejects in-flight requests with ConnectionClosedError and DELETEs the session', async () => {
    const conn = await open({});
    (server as H2Server).holdUntilOpen = 1000;
    const pending = conn.request(request('never')).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
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
    server = await startH2Server({ tls: certificate });
    connection = createHttp2Connection({ url: server.url });
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

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
