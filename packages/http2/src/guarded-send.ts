import type { IncomingHttpHeaders } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import {
  AbortedError,
  type ConnectionMetrics,
  ResponseTooLargeError,
  TransportError,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import { type ContentKind, contentKind } from './content-kind.ts';
import { type HttpTarget, toTransportError } from './http.ts';
import {
  type PostAbortSource,
  type PostAnswer,
  type PostReceiver,
  tellLater,
} from './post-answer.ts';
import { kQueuedAbort } from './queued-abort.ts';
import { BODY_HIGH_WATER_MARK, StreamedBody } from './response-body.ts';
import type { HeaderRecord } from './session.ts';
import { expectStream, stopExpecting, watchOpeningStreams } from './stream-opening.ts';

type Handler = Dispatcher.DispatchHandler;
type Controller = Parameters<NonNullable<Handler['onRequestStart']>>[0];

/** Bytes kept of a body nobody parses (an error status, another type): enough for an excerpt. */
export const DISCARD_LIMIT = BODY_HIGH_WATER_MARK;

const EMPTY = Buffer.alloc(0);
/** The headers of an answer not yet come (one shared object, never written). */
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});

/** `{ once: true }`, made once. */
const ONCE = { once: true } as const;

/**
 * POSTs `body` (JSON, encoded once by the caller) and resolves once the answer is known: a 2xx `application/json` answer (and any
 * other that is not a 2xx SSE stream) when its whole body came, a 2xx `text/event-stream`
 * answer at its headers, with a StreamedBody. A JSON body past `maxJsonBytes` rejects with
 * ResponseTooLargeError; with `maxJsonBytes` undefined every body is only skimmed (kept up to
 * DISCARD_LIMIT). A request or body that breaks rejects with TransportError
 * ("POST <path> failed"); aborting `signal` rejects with its reason.
 */
export function sendPost(
  target: HttpTarget,
  headers: HeaderRecord,
  body: Buffer,
  signal: AbortSignal | undefined,
  maxJsonBytes: number | undefined,
  metrics: ConnectionMetrics,
): Promise<PostAnswer> {
  return new Promise<PostAnswer>((resolve, reject) => {
    const receiver: PostReceiver = { postAnswered: resolve, postFailed: reject };
    new GuardedSend(target, signal, maxJsonBytes, metrics, receiver).send(headers, body);
  });
}

/**
 * One POST: the handler undici's dispatcher calls, the reader of its answer and the guard that
 * keeps aborting it from freezing the process.
 *
 * undici 8.13.1 aborts an HTTP/2 request by `stream.close()` (RST_STREAM with NO_ERROR) and a
 * synchronous `destroy()`. When part of the request body is still waiting for flow-control
 * window, Node's nghttp2 session then spins in `SendPendingData`, the event loop stops and RSS
 * grows by hundreds of MB per second (docs/undici-h2-abort-freeze.md). So an abort is passed on
 * to undici only while that cannot happen:
 * - before the request starts (it is still queued: undici takes it out, no stream is opened);
 * - once the whole body has been handed over: the HTTP/2 stream's `finish` (Node emits it once
 *   nghttp2 took the data; undici reports `onRequestSent` for a buffer body as soon as it is
 *   queued, so the stream itself is kept, caught as it opens, and watched once an abort comes);
 *   over HTTP/1.1, `onRequestSent`;
 * - once the response has started (the server read the body, or chose not to).
 * An abort that comes while the body is going out waits for one of these; the caller has
 * already moved on (its promise settled), only the stream's reset is late. A server that never
 * opens its window keeps that stream until the connection closes.
 *
 * The body is a buffer, not a stream: a stream body costs undici a `pipeline()` per request
 * (an AbortController, a DOMException when it ends, end-of-stream listeners). The answer is
 * read here too, with no stream object: a JSON body is gathered as Buffers and joined once.
 * The outcome goes to a PostReceiver (the request's exchange) rather than through a promise, so
 * the exchange waits for it with no async frame; the exchange aborts it directly, so only an
 * AbortSignal (a one-way message's) gets a listener.
 */
export class GuardedSend implements Handler, PostAnswer {
  statusCode = 0;
  headers: IncomingHttpHeaders = NO_HEADERS;
  kind: ContentKind = 'other';
  bytes: Buffer = EMPTY;
  truncated = false;
  body: StreamedBody | undefined;

  readonly #target: HttpTarget;
  readonly #source: PostAbortSource;
  readonly #maxJsonBytes: number | undefined;
  readonly #metrics: ConnectionMetrics;
  readonly #receiver: PostReceiver;
  #settled = false;
  /** What the receiver is told: undefined for the answer, else the failure. */
  #error: unknown;
  #controller: Controller | undefined;
  #phase: 'queued' | 'sending' | 'sent' = 'queued';
  #aborted = false;
  #abortHeld = false;
  #subscribed = false;
  /** The listener of an AbortSignal source. */
  #onSignalAbort: (() => void) | undefined;
  #reason: Error | undefined;
  #cancelQueued: ((reason: unknown) => void) | undefined;
  /** The HTTP/2 stream of the latest attempt, while its body may still be going out. */
  #stream: ClientHttp2Stream | undefined;
  // The body being gathered: its chunks, their length, and how much may be kept.
  #chunks: Buffer[] | undefined;
  #length = 0;
  #keepLimit = 0;
  #overLimitFails = false;

  constructor(
    target: HttpTarget,
    source: PostAbortSource,
    maxJsonBytes: number | undefined,
    metrics: ConnectionMetrics,
    receiver: PostReceiver,
  ) {
    this.#target = target;
    this.#source = source;
    this.#maxJsonBytes = maxJsonBytes;
    this.#metrics = metrics;
    this.#receiver = receiver;
  }

  /** Starts the POST; its outcome goes to the receiver. */
  send(headers: HeaderRecord, body: Buffer): void {
    watchOpeningStreams();
    const source = this.#source;
    if (source !== undefined) {
      if (source !== 'caller' && source.aborted) {
        this.#aborted = true;
        this.#reason = abortError(source.reason);
        this.#settle(this.#reason);
        return;
      }
      this.#subscribed = true;
      if (source !== 'caller') {
        const onAbort = (): void => {
          this.#subscribed = false;
          this.#abort(source.reason);
        };
        this.#onSignalAbort = onAbort;
        source.addEventListener('abort', onAbort, ONCE);
      }
    }
    const target = this.#target;
    const options: Dispatcher.DispatchOptions = {
      origin: target.origin,
      path: target.path,
      method: 'POST',
      headers,
      body,
      // The request's deadline covers both; an SSE answer may stay quiet for long.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    if (source !== undefined && kQueuedAbort !== undefined) {
      (options as unknown as Record<symbol, unknown>)[kQueuedAbort] = this.#onQueued;
    }
    try {
      target.dispatcher.dispatch(options, this);
    } catch (error) {
      this.onResponseError(undefined, error as Error);
    }
  }

  /** Called from the microtask after the outcome is known (see `tellLater`). */
  tellReceiver(): void {
    const error = this.#error;
    if (error === undefined) this.#receiver.postAnswered(this);
    else this.#receiver.postFailed(error);
  }

  /**
   * The HTTP/2 stream undici opened for this request (see stream-opening.ts). It is only kept: its
   * `finish` is listened to if an abort comes while the body may still be going out, so a
   * request nobody aborts adds no listener.
   */
  streamOpened(stream: ClientHttp2Stream): void {
    if (this.#phase === 'sending') this.#stream = stream;
  }

  // The dispatch handler.

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    this.#cancelQueued = undefined;
    if (this.#aborted) {
      // Aborted while queued where no dispatcher could take it out: no stream is open yet.
      controller.abort(this.#reason as Error);
      return;
    }
    this.#phase = 'sending';
    this.#stream = undefined;
    expectStream(this);
  }

  /**
   * undici queued the whole body. Over HTTP/2 it may still wait for window: the stream's
   * `finish` says when it went out. With no stream of ours (HTTP/1.1), it is sent.
   */
  onRequestSent(): void {
    stopExpecting(this);
    const stream = this.#stream;
    if (stream === undefined || stream.writableFinished || stream.destroyed) this.#sent();
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.#sent();
    // An abort held while the body went out has just been passed on: nothing more to read.
    if (this.#settled) return;
    this.statusCode = statusCode;
    this.headers = headers;
    const kind = contentKind(headers['content-type']);
    this.kind = kind;
    const success =
      statusCode >= 200 && statusCode < 300 && statusCode !== 202 && statusCode !== 204;
    if (success && kind === 'sse') {
      this.body = new StreamedBody(controller);
      this.#settle(undefined);
      return;
    }
    const maxJson = this.#maxJsonBytes;
    if (kind === 'json' && maxJson !== undefined) {
      this.#keepLimit = maxJson;
      this.#overLimitFails = success;
      if (success && Number(headers['content-length']) > maxJson) {
        controller.abort(new ResponseTooLargeError(maxJson));
      }
    } else {
      this.#keepLimit = DISCARD_LIMIT;
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const body = this.body;
    if (body !== undefined) {
      body.push(chunk);
      return;
    }
    if (this.#settled) return;
    const length = this.#length + chunk.byteLength;
    if (length <= this.#keepLimit) {
      this.#length = length;
      if (this.#chunks === undefined) this.#chunks = [chunk];
      else this.#chunks.push(chunk);
      return;
    }
    if (this.#overLimitFails) {
      this.#metrics.bytesReceived(length);
      controller.abort(new ResponseTooLargeError(this.#keepLimit));
      return;
    }
    // Nobody parses this body: keep its beginning, let the rest go.
    const head = chunk.subarray(0, this.#keepLimit - this.#length);
    if (this.#chunks === undefined) this.#chunks = [head];
    else this.#chunks.push(head);
    this.#length = this.#keepLimit;
    this.truncated = true;
    this.#finish();
    controller.abort(new TransportError('The rest of the response body was discarded'));
  }

  onResponseEnd(): void {
    this.#unsubscribe();
    const body = this.body;
    if (body !== undefined) body.end();
    else this.#finish();
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    this.#stream = undefined;
    this.#phase = 'sent';
    this.#abortHeld = false;
    this.#cancelQueued = undefined;
    this.#unsubscribe();
    const body = this.body;
    if (body !== undefined) body.fail(error);
    else this.#settle(error);
  }

  /** Joins the gathered chunks (once) and resolves. */
  #finish(): void {
    if (this.#settled) return;
    const chunks = this.#chunks;
    const length = this.#length;
    this.#metrics.bytesReceived(length);
    this.bytes =
      chunks === undefined
        ? EMPTY
        : chunks.length === 1
          ? (chunks[0] as Buffer)
          : Buffer.concat(chunks, length);
    this.#chunks = undefined;
    this.#settle(undefined);
  }

  #settle(error: Error | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    if (error !== undefined) {
      this.#error =
        this.#aborted && error === this.#reason
          ? error
          : toTransportError(error, `POST ${this.#target.path} failed`);
    }
    tellLater(this);
  }

  // The abort guard.

  /** Set by a dispatcher while the request waits in its queue (see kQueuedAbort). */
  #onQueued = (cancel: (reason: unknown) => void): void => {
    if (this.#aborted) cancel(this.#reason);
    else this.#cancelQueued = cancel;
  };

  /**
   * With 'caller' as the source: the caller aborts the request (a no-op once its answer
   * ended or broke, as an unsubscribed listener would be).
   */
  abort(reason: unknown): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    this.#abort(reason);
  }

  #abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = abortError(reason);
    if (this.#phase === 'sending') {
      this.#holdAbort();
      return;
    }
    if (this.#phase === 'sent') {
      this.#controller?.abort(this.#reason as Error);
      return;
    }
    // Queued: taken out of the dispatcher's queue now, or stopped as it starts.
    const cancel = this.#cancelQueued;
    this.#cancelQueued = undefined;
    cancel?.(this.#reason);
  }

  /**
   * An abort while the body may be going out: passed on at once when the HTTP/2 stream has
   * finished sending it, else once it does (or closes). Over HTTP/1.1 (no stream of ours), at
   * `onRequestSent`.
   */
  #holdAbort(): void {
    const stream = this.#stream;
    if (stream !== undefined && (stream.writableFinished || stream.destroyed)) {
      this.#abortHeld = true;
      this.#sent();
      return;
    }
    this.#abortHeld = true;
    if (stream === undefined) return;
    const done = (): void => {
      if (this.#stream === stream) this.#sent();
    };
    stream.once('finish', done);
    stream.once('close', done);
  }

  #sent(): void {
    this.#stream = undefined;
    this.#phase = 'sent';
    if (this.#abortHeld) {
      this.#abortHeld = false;
      this.#controller?.abort(this.#reason as Error);
    }
  }

  #unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    const source = this.#source;
    const onAbort = this.#onSignalAbort;
    if (onAbort !== undefined && source !== 'caller') {
      this.#onSignalAbort = undefined;
      source?.removeEventListener('abort', onAbort);
    }
  }
}

/** What an abort rejects with: the source's reason when it is an Error. */
function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new AbortedError({ cause: reason });
}
