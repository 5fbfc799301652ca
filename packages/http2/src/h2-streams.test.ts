import diagnosticsChannel from 'node:diagnostics_channel';
import { ReconnectFailedError, ResponseTooLargeError, TimeoutError } from '@mcp/connection-core';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { type H2Server, type Res, startH2Server } from '../test/h2-server.ts';
import { closeAfterEach, initialized, initializeRequest, request } from '../test/helpers.ts';
import type { ServerStreamEndMessage } from './channels.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';
import type { Http2ConnectionOptions } from './options.ts';

const own = closeAfterEach();
let server: H2Server | undefined;

async function open(
  serverOptions: Parameters<typeof startH2Server>[0],
  options: Partial<Http2ConnectionOptions> = {},
): Promise<Http2Connection> {
  server = own(await startH2Server(serverOptions));
  const connection = own(createHttp2Connection({ url: server.url, h2c: true, ...options }));
  await connection.request(initializeRequest());
  await connection.notify(initialized);
  return connection;
}

/** A caller's h2c dispatcher whose bodyTimeout (200 ms) an idle stream would outlive. */
function shortBodyTimeoutPool(url: string): Pool {
  const pool = new Pool(new URL(url).origin, {
    allowH2: true,
    useH2c: true,
    bodyTimeout: 200,
  } as Pool.Options);
  return own(pool);
}

function sse(res: Res, events: string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
}

describe('streams over h2c (node:http2 fixture)', () => {
  it('a server request on the GET stream is answered with respond()', async () => {
    server = own(await startH2Server({}));
    const answers: unknown[] = [];
    let answered: () => void = () => {};
    const gotAnswer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let opened = false;
    server.intercept = (req, res, message) => {
      if (req.method === 'GET' && !opened) {
        opened = true;
        sse(res, [`data: ${JSON.stringify({ jsonrpc: '2.0', id: 's1', method: 'ping' })}\n\n`]);
        return true;
      }
      if (req.method === 'POST' && message !== undefined && 'result' in message) {
        answers.push(message);
        res.writeHead(202).end();
        answered();
        return true;
      }
      return false;
    };
    const connection = own(createHttp2Connection({ url: server.url, h2c: true }));
    await connection.request(initializeRequest());
    await connection.notify(initialized);
    const ping = await connection.receive();
    expect(ping).toMatchObject({ id: 's1', method: 'ping' });
    await connection.respond({ jsonrpc: '2.0', id: 's1', result: {} });
    await gotAnswer;
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 's1', result: {} }]);
  });

  it('keeps an idle SSE response alive past the dispatcher bodyTimeout', async () => {
    server = own(await startH2Server({}));
    const pool = shortBodyTimeoutPool(server.url);
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
    const connection = own(createHttp2Connection({ url: server.url, dispatcher: pool }));
    await connection.request(initializeRequest());
    const response = await connection.request(request('slow/sse'));
    expect(response).toHaveProperty('result.late', true);
  });

  it('keeps an idle GET stream alive past the dispatcher bodyTimeout', async () => {
    server = own(await startH2Server({}));
    const pool = shortBodyTimeoutPool(server.url);
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
    const connection = own(createHttp2Connection({ url: server.url, dispatcher: pool }));
    await connection.request(initializeRequest());
    await connection.notify(initialized);
    await expect(connection.receive()).resolves.toMatchObject({ method: 'notifications/late' });
    expect(gets).toBe(1);
    // The protocol of a caller's dispatcher is read from undici's connect diagnostics.
    expect(connection.httpProtocol).toBe('h2');
    // A second Connection on the same, already connected dispatcher (as in a pool) knows it too.
    const second = createHttp2Connection({
      url: server.url,
      dispatcher: pool,
      serverStream: false,
    });
    expect(second.isMultiplexed).toBe(true);
    await second.close();
  });

  it('a GET stream that keeps failing gives up and says so on a diagnostics channel', async () => {
    const ends: ServerStreamEndMessage[] = [];
    const listener = (message: unknown) => ends.push(message as ServerStreamEndMessage);
    diagnosticsChannel.subscribe('mcp:http2:server-stream:end', listener);
    try {
      server = own(await startH2Server({}));
      let gets = 0;
      server.intercept = (req, res) => {
        if (req.method !== 'GET') return false;
        gets++;
        res.writeHead(503).end();
        return true;
      };
      const connection = own(
        createHttp2Connection({
          url: server.url,
          h2c: true,
          reconnection: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 },
        }),
      );
      await connection.request(initializeRequest());
      await connection.notify(initialized);
      await expect
        .poll(() => ends.length, { message: 'nothing published on server-stream:end' })
        .toBe(1);
      expect(ends[0]).toMatchObject({ end: 'gave-up', sessionId: connection.sessionId });
      expect(gets).toBe(3);
    } finally {
      diagnosticsChannel.unsubscribe('mcp:http2:server-stream:end', listener);
    }
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
    await expect
      .poll(() => server?.cancelled.length, { message: 'no notifications/cancelled arrived' })
      .toBe(1);
    expect(server?.cancelled[0]).toMatchObject({ requestId: message.id });
  });

  it('a timeout while an SSE answer streams resets that stream too', async () => {
    const conn = await open({}, { serverStream: false });
    const closed = new Promise<void>((resolve) => {
      (server as H2Server).intercept = (req, res, message) => {
        if (message?.method !== 'endless') return false;
        // Headers and a keep-alive go out, then nothing: the answer never comes.
        sse(res, [': open\n\n']);
        req.stream.on('close', () => resolve());
        return true;
      };
    });
    const pending = conn.request(request('endless'), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(await pending).toBeInstanceOf(TimeoutError);
    await closed;
  });

  it('a JSON answer over maxResponseBytes fails with ResponseTooLargeError, with or without a length', async () => {
    const conn = await open({}, { serverStream: false, maxResponseBytes: 1024 });
    const big = (id: unknown) =>
      JSON.stringify({ jsonrpc: '2.0', id, result: { text: 'x'.repeat(4096) } });
    (server as H2Server).intercept = (_req, res, message) => {
      if (message === undefined || !('id' in message)) return false;
      if (message.method === 'sized') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(big(message.id));
        return true;
      }
      if (message.method === 'chunked') {
        // No content-length: the limit is found while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        const text = big(message.id);
        res.write(text.slice(0, 600));
        res.end(text.slice(600));
        return true;
      }
      return false;
    };
    for (const method of ['sized', 'chunked']) {
      const error = await conn.request(request(method)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect(error).toMatchObject({ code: 'MCP_RESPONSE_TOO_LARGE', limit: 1024 });
    }
    await expect(conn.request(request('tools/list'))).resolves.toHaveProperty('result');
  });

  it('resumes a POST stream that broke after an event id, with GET + Last-Event-ID', async () => {
    const conn = await open({}, { reconnection: { initialDelayMs: 10 } });
    const lastEventIds: string[] = [];
    let requestId: unknown;
    (server as H2Server).intercept = (req, res, message) => {
      if (message?.method === 'flaky') {
        requestId = message.id;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('id: e1\ndata: \n\n');
        const note = { jsonrpc: '2.0', method: 'notifications/message', params: { n: 1 } };
        // Once both events went out, RST_STREAM: the stream breaks.
        res.write(`id: e2\ndata: ${JSON.stringify(note)}\n\n`, () => res.stream.close(2));
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
    // 2.25 s of work, a 1 s limit: progress every 250 ms keeps it alive.
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
    server = own(await startH2Server({}));
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
    const connection = own(createHttp2Connection({ url: server.url, h2c: true }));
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
  it('close() deletes the session first: the server ends the GET stream, nothing is reset', async () => {
    server = own(await startH2Server({}));
    let getStream: Res | undefined;
    let getOpenAtDelete: boolean | undefined;
    const getClosed = new Promise<{ endedByServer: boolean }>((resolve) => {
      (server as H2Server).intercept = (req, res) => {
        if (req.method === 'GET') {
          getStream = res;
          sse(res, [': open\n\n']);
          req.stream.on('close', () => resolve({ endedByServer: res.writableEnded }));
          return true;
        }
        if (req.method === 'DELETE') {
          getOpenAtDelete = getStream !== undefined && !getStream.stream.closed;
          getStream?.end(); // as servers do: deleting the session ends its GET stream
        }
        return false;
      };
    });
    const connection = own(createHttp2Connection({ url: server.url, h2c: true }));
    await connection.request(initializeRequest());
    await connection.notify(initialized);
    await expect.poll(() => getStream !== undefined).toBe(true);
    await connection.close();
    // A reset per closed session adds up: nghttp2 servers answer a flood of them with GOAWAY.
    expect(getOpenAtDelete).toBe(true);
    await expect(getClosed).resolves.toMatchObject({ endedByServer: true });
    expect(server.deleted).toHaveLength(1);
  });
  it('after a GOAWAY, requests get a new connection though the GET stream stays on the old one', async () => {
    server = own(await startH2Server({}));
    let getOpen = false;
    server.intercept = (req, res) => {
      if (req.method !== 'GET') return false;
      getOpen = true;
      sse(res, [': open\n\n']); // held open on the old connection after the GOAWAY
      return true;
    };
    const connection = own(
      createHttp2Connection({ url: server.url, h2c: true, requestTimeoutMs: 5_000 }),
    );
    await connection.request(initializeRequest());
    await connection.notify(initialized);
    await expect.poll(() => getOpen).toBe(true);
    server.goaway();
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) => connection.request(request('ping', { i }))),
    );
    expect(answers.map((a) => a && 'result' in a)).toEqual([true, true, true, true]);
    expect(server.connections).toBe(2);
  });
});
