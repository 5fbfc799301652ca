import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  AbortedError,
  ConnectionMetrics,
  ErrorCode,
  HttpStatusError,
  ResponseTooLargeError,
  TransportError,
} from '@mcp/connection-core';
import { type Dispatcher, Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createOwnDispatcher } from './dispatcher.ts';
import { sendPost } from './guarded-send.ts';
import { answerStatusError, type HttpTarget } from './http.ts';
import type { PostAnswer } from './post-answer.ts';
import { BODY_HIGH_WATER_MARK } from './response-body.ts';

type StreamHandler = (stream: http2.ServerHttp2Stream) => void;

interface Fixture {
  target: HttpTarget;
  metrics: ConnectionMetrics;
  /** Resolves with the next POST stream the server receives, once its body was read. */
  nextStream(): Promise<http2.ServerHttp2Stream>;
  /** Resolves with the next POST stream as it opens (its body unread with `holdBodies`). */
  nextOpened(): Promise<http2.ServerHttp2Stream>;
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * An h2c node:http2 server on 127.0.0.1 that reads each POST's body and answers it with
 * `handle`. With `holdBodies` it reads no body until the test resumes the stream.
 */
async function serve(handle: StreamHandler, holdBodies = false): Promise<Fixture> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const read: Array<(stream: http2.ServerHttp2Stream) => void> = [];
  const opened: Array<(stream: http2.ServerHttp2Stream) => void> = [];
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    opened.shift()?.(stream);
    if (!holdBodies) stream.resume();
    stream.on('end', () => {
      read.shift()?.(stream);
      handle(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(async () => {
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const handle_ = createOwnDispatcher({ origin, h2c: true, tls: undefined });
  closers.push(() => handle_.close());
  return {
    target: { dispatcher: handle_.dispatcher, origin, path: '/mcp' },
    metrics: new ConnectionMetrics(origin),
    nextStream: () => new Promise((resolve) => read.push(resolve)),
    nextOpened: () => new Promise((resolve) => opened.push(resolve)),
  };
}

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
const BODY = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));

function post(f: Fixture, signal?: AbortSignal, maxJsonBytes = 1 << 20): Promise<PostAnswer> {
  return sendPost(f.target, HEADERS, BODY, signal, maxJsonBytes, f.metrics);
}

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Resolves once the server's stream closed. The servers of these tests never end their
 * stream, so only the client's reset closes it (undici resets with NO_ERROR).
 */
function closed(stream: http2.ServerHttp2Stream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

describe('sendPost (GuardedSend as the dispatch handler)', () => {
  it('gathers a JSON answer whole in the handler, however it is split', async () => {
    const answer = `{"jsonrpc":"2.0","id":1,"result":{"tools":[${'{"name":"t"},'.repeat(2000)}{"name":"last"}]}}`;
    const f = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      const bytes = Buffer.from(answer);
      for (let at = 0; at < bytes.length; at += 1000) stream.write(bytes.subarray(at, at + 1000));
      stream.end();
    });
    const result = await post(f);
    expect(result).toMatchObject({
      statusCode: 200,
      kind: 'json',
      truncated: false,
      body: undefined,
    });
    expect(result.bytes.toString()).toBe(answer);
    expect(JSON.parse(result.bytes.toString()).result.tools).toHaveLength(2001);
    expect(f.metrics.snapshot().bytes.received).toBe(Buffer.byteLength(answer));
  });

  it('streams an SSE answer, pausing undici past 64 KiB unread and resuming once drained', async () => {
    const event = `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'n', params: { x: 'y'.repeat(4000) } })}\n\n`;
    const events = 64;
    const server = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      for (let i = 0; i < events; i++) stream.write(event);
      stream.end();
    });
    // Watches the controller undici hands the handler: its pause() and resume() calls.
    let pauses = 0;
    let resumes = 0;
    let onPause!: () => void;
    const paused = new Promise<void>((resolve) => {
      onPause = resolve;
    });
    const spied = server.target.dispatcher.compose(
      (dispatch) => (opts, handler) =>
        dispatch(opts, {
          ...bind(handler),
          onRequestStart(controller, context) {
            const { pause, resume } = controller;
            controller.pause = () => {
              pauses++;
              pause.call(controller);
              onPause();
            };
            controller.resume = () => {
              resumes++;
              resume.call(controller);
            };
            handler.onRequestStart?.(controller, context);
          },
        }),
    );
    const f = { ...server, target: { ...server.target, dispatcher: spied } };
    const result = await post(f);
    expect(result).toMatchObject({ statusCode: 200, kind: 'sse', bytes: Buffer.alloc(0) });
    const body = result.body;
    if (body === undefined) throw new Error('no streamed body');
    await paused;
    expect(pauses).toBe(1);
    expect(body.bufferedBytes).toBeGreaterThan(BODY_HIGH_WATER_MARK);
    expect(body.bufferedBytes).toBeLessThan(events * event.length);
    const text = (await readAll(body)).toString();
    expect(text).toBe(event.repeat(events));
    expect(resumes).toBeGreaterThanOrEqual(1);
    expect(body.destroyed).toBe(true);
  });

  it('fails with TransportError "POST /mcp failed" when the body breaks mid-JSON', async () => {
    const f = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.write('{"jsonrpc":"2.0","id":1,"result":{"tools":[{"na', () => {
        // Not close(): node ends the stream cleanly before its RST_STREAM. destroy() resets it.
        stream.destroy(new Error('the server broke down'));
      });
    });
    const error = await post(f).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCode.TRANSPORT, message: 'POST /mcp failed' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('rejects a JSON answer past maxJsonBytes with ResponseTooLargeError', async () => {
    const f = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(`{"jsonrpc":"2.0","id":1,"result":{"x":"${'z'.repeat(5000)}"}}`);
    });
    await expect(post(f, undefined, 1024)).rejects.toBeInstanceOf(ResponseTooLargeError);
  });

  it('aborted before the headers: rejects with the reason and resets the stream', async () => {
    const f = await serve(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const streamed = f.nextStream();
    const pending = post(f, controller.signal);
    const stream = await streamed;
    controller.abort(new AbortedError());
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await closed(stream);
    expect(stream.closed).toBe(true);
  });

  it('aborted while its body is going out: the reset waits until the body is out', async () => {
    // The server reads nothing at first: a 1 MiB body waits for flow-control window.
    const f = await serve(() => {
      // Never answers.
    }, true);
    const opened = f.nextOpened();
    const controller = new AbortController();
    const big = Buffer.alloc(1 << 20, 'x');
    const pending = sendPost(f.target, HEADERS, big, controller.signal, 1 << 20, f.metrics);
    const settled = pending.catch((error: unknown) => error);
    const stream = await opened;
    const reason = new AbortedError();
    controller.abort(reason);
    // Resetting now could freeze the process (docs/undici-h2-abort-freeze.md): the abort is
    // held until the body has gone out, which it does once the server reads it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.closed).toBe(false);
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
    });
    expect(await settled).toBe(reason);
    await closed(stream);
    expect(received).toBe(big.byteLength);
  });

  it('aborted while queued in undici: taken out of its queue at once (kQueuedAbort)', async () => {
    const server = await serve(() => {
      // Never answers: the first request holds the only stream the pool may open.
    });
    const pool = new Pool(server.target.origin, {
      connections: 1,
      allowH2: true,
      useH2c: true,
      h2Options: { maxConcurrentStreams: 1 },
    } as Pool.Options);
    closers.push(() => pool.destroy());
    const f = { ...server, target: { ...server.target, dispatcher: pool } };
    const streamed = server.nextStream();
    const first = post(f, new AbortController().signal).catch((error: unknown) => error);
    await streamed;
    const controller = new AbortController();
    const second = post(f, controller.signal);
    expect(pool.stats).toMatchObject({ running: 1, pending: 1 });
    const reason = new AbortedError();
    controller.abort(reason);
    await expect(second).rejects.toBe(reason);
    expect(pool.stats).toMatchObject({ running: 1, pending: 0 });
    await pool.destroy();
    expect(await first).toBeInstanceOf(TransportError);
  });

  it('aborted mid-stream: the reader gets the error and the stream is reset', async () => {
    const f = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write('data: {"jsonrpc":"2.0","method":"first"}\n\n');
    });
    const controller = new AbortController();
    const streamed = f.nextStream();
    const result = await post(f, controller.signal);
    const body = result.body;
    if (body === undefined) throw new Error('no streamed body');
    const first = await body.next();
    expect(first.value?.toString()).toContain('"first"');
    const reason = new AbortedError();
    controller.abort(reason);
    await expect(body.next()).rejects.toBe(reason);
    expect(body.destroyed).toBe(true);
    const stream = await streamed;
    await closed(stream);
    expect(stream.closed).toBe(true);
  });

  it('gathers the body of a non-2xx answer for its HttpStatusError', async () => {
    const f = await serve((stream) => {
      stream.respond({ ':status': 503, 'content-type': 'text/plain', 'retry-after': '1' });
      stream.end('upstream is down');
    });
    const result = await post(f);
    expect(result).toMatchObject({
      statusCode: 503,
      kind: 'other',
      truncated: false,
      body: undefined,
    });
    const error = answerStatusError(result);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 503, bodyExcerpt: 'upstream is down' });
    expect(error.headers).toMatchObject({ 'retry-after': '1' });
  });
});

/** The handler's methods, bound, so a wrapper can spread them and override one. */
function bind(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  const out: Record<string, unknown> = {};
  for (const key of [
    'onRequestStart',
    'onRequestSent',
    'onResponseStart',
    'onResponseData',
    'onResponseEnd',
    'onResponseError',
  ] as const) {
    const method = handler[key as keyof Dispatcher.DispatchHandler];
    if (typeof method === 'function')
      out[key] = (method as (...a: unknown[]) => unknown).bind(handler);
  }
  return out as Dispatcher.DispatchHandler;
}
