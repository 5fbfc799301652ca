import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientHttp2Stream } from 'node:http2';
import { Dispatcher } from 'undici';
import type { AbortEmitter } from './http.ts';

type Handler = Dispatcher.DispatchHandler;
type Controller = Parameters<NonNullable<Handler['onRequestStart']>>[0];

/**
 * The send whose HTTP/2 stream undici is opening right now. undici calls `onRequestStart` and
 * then, in the same synchronous run, `session.request()`, which publishes the new stream on
 * `http2.client.stream.created`: the stream published then is that send's.
 */
let starting: GuardedSend | undefined;
let watching = false;

function onStreamCreated(message: unknown): void {
  const send = starting;
  if (send === undefined) return;
  starting = undefined;
  send.streamOpened((message as { stream: ClientHttp2Stream }).stream);
}

/**
 * What a request with a body needs so that aborting it can never freeze the process.
 *
 * undici 8.13.1 aborts an HTTP/2 request by `stream.close()` (RST_STREAM with NO_ERROR) and a
 * synchronous `destroy()`. When part of the request body is still waiting for flow-control
 * window, Node's nghttp2 session then spins in `SendPendingData`, the event loop stops and RSS
 * grows by hundreds of MB per second (docs/undici-h2-abort-freeze.md). So an abort is passed on
 * to undici only while that cannot happen:
 * - before the request starts (it is still queued: undici takes it out, no stream is opened);
 * - once the whole body has been handed over: the HTTP/2 stream's `finish` (Node emits it once
 *   nghttp2 took the data; undici reports `onRequestSent` for a buffer body as soon as it is
 *   queued, so the stream itself is watched, caught as it opens); over HTTP/1.1, `onRequestSent`;
 * - once the response has started (the server read the body, or chose not to).
 * An abort that comes while the body is going out waits for one of these; the caller has
 * already moved on (its promise settled), only the stream's reset is late. A server that never
 * opens its window keeps that stream until the connection closes.
 *
 * The body is a buffer, not a stream: a stream body costs undici a `pipeline()` per request
 * (an AbortController, a DOMException when it ends, end-of-stream listeners).
 *
 * One object per request: the dispatcher undici's `request()` dispatches through, the handler
 * the real dispatcher calls (to see the request start, its body sent and its response begin)
 * and the signal undici watches.
 */
export class GuardedSend implements AbortEmitter, Handler {
  readonly #dispatcher: Dispatcher;
  readonly #source: AbortEmitter | AbortSignal;
  #listeners: Array<() => void> = [];
  #phase: 'queued' | 'sending' | 'sent' = 'queued';
  #abortHeld = false;
  #answered = false;
  #subscribed = false;
  #reason: unknown;
  #handler: Handler | undefined;
  /** The HTTP/2 stream of the latest attempt, while its body may still be going out. */
  #stream: ClientHttp2Stream | undefined;

  constructor(dispatcher: Dispatcher, source: AbortEmitter | AbortSignal) {
    this.#dispatcher = dispatcher;
    this.#source = source;
  }

  /** Sends through undici's `request()`, with this object as dispatcher and signal. */
  request(
    options: Omit<Dispatcher.RequestOptions, 'signal' | 'body'>,
    body: string,
  ): Promise<Dispatcher.ResponseData> {
    if (!watching) {
      watching = true;
      diagnosticsChannel.subscribe('http2.client.stream.created', onStreamCreated);
    }
    return Dispatcher.prototype.request.call<
      Dispatcher,
      [Dispatcher.RequestOptions],
      Promise<Dispatcher.ResponseData>
    >(this as unknown as Dispatcher, {
      ...options,
      body: Buffer.from(body),
      signal: this as unknown as AbortSignal,
    });
  }

  /** The HTTP/2 stream undici opened for this request (see `starting`). */
  streamOpened(stream: ClientHttp2Stream): void {
    if (this.#phase !== 'sending') return;
    this.#stream = stream;
    const done = (): void => {
      if (this.#stream === stream) this.#sent();
    };
    stream.once('finish', done);
    stream.once('close', done);
  }

  /**
   * True when `error` is undici refusing this request because of a GOAWAY that came before the
   * server took its stream (undici replays such a request itself only when its body is a
   * buffer), and nobody aborted it: sending it again cannot make the server process it twice.
   */
  refusedByGoaway(error: unknown): boolean {
    if (this.#answered || this.#reason !== undefined || !(error instanceof Error)) return false;
    return error.message.startsWith('HTTP/2: "GOAWAY" frame received');
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    this.#handler = handler;
    return this.#dispatcher.dispatch(options, this);
  }

  // AbortEmitter, for undici: what it registers here waits on the source's abort.
  get reason(): unknown {
    return this.#reason;
  }
  on(_event: 'abort', listener: () => void): this {
    this.#listeners.push(listener);
    if (!this.#subscribed) {
      this.#subscribed = true;
      subscribe(this.#source, this.#onSourceAbort);
    }
    return this;
  }
  once(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }
  removeListener(_event: 'abort', listener: () => void): this {
    const i = this.#listeners.indexOf(listener);
    if (i !== -1) this.#listeners.splice(i, 1);
    if (this.#listeners.length === 0 && this.#subscribed) {
      this.#subscribed = false;
      unsubscribe(this.#source, this.#onSourceAbort);
    }
    return this;
  }

  #onSourceAbort = (): void => {
    this.#reason = (this.#source as { reason?: unknown }).reason;
    if (this.#phase === 'sending') this.#abortHeld = true;
    else this.#emitAbort();
  };

  #emitAbort(): void {
    this.#abortHeld = false;
    for (const listener of this.#listeners.splice(0)) listener();
    if (this.#subscribed) {
      this.#subscribed = false;
      unsubscribe(this.#source, this.#onSourceAbort);
    }
  }

  #sent(): void {
    this.#stream = undefined;
    this.#phase = 'sent';
    if (this.#abortHeld) this.#emitAbort();
  }

  // The handler undici's `request()` gave `dispatch()`: every event goes on to it, and the
  // phases above are read on the way (this object is the handler undici's dispatcher sees).
  onRequestStart(controller: Controller, context: unknown): void {
    this.#phase = 'sending';
    this.#stream = undefined;
    starting = this;
    this.#handler?.onRequestStart?.(controller, context);
  }
  /**
   * undici queued the whole body. Over HTTP/2 it may still wait for window: the stream's
   * `finish` says when it went out. With no stream of ours (HTTP/1.1), it is sent.
   */
  onRequestSent(): void {
    if (starting === this) starting = undefined;
    const stream = this.#stream;
    if (stream === undefined || stream.writableFinished || stream.destroyed) this.#sent();
  }
  onRequestUpgrade(...args: Parameters<NonNullable<Handler['onRequestUpgrade']>>): void {
    this.#handler?.onRequestUpgrade?.(...args);
  }
  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Parameters<NonNullable<Handler['onResponseStart']>>[2],
    statusMessage?: string,
  ): void {
    this.#handler?.onResponseStart?.(controller, statusCode, headers, statusMessage);
    if (statusCode < 200) return;
    this.#answered = true;
    this.#sent();
  }
  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#handler?.onResponseData?.(controller, chunk);
  }
  onResponseEnd(
    controller: Controller,
    trailers: Parameters<NonNullable<Handler['onResponseEnd']>>[1],
  ): void {
    this.#handler?.onResponseEnd?.(controller, trailers);
  }
  onResponseError(controller: Controller, error: Error): void {
    this.#stream = undefined;
    this.#phase = 'sent';
    this.#abortHeld = false;
    this.#handler?.onResponseError?.(controller, error);
  }
}

function subscribe(source: AbortEmitter | AbortSignal, listener: () => void): void {
  if ('addEventListener' in source) source.addEventListener('abort', listener, { once: true });
  else source.once('abort', listener);
}

function unsubscribe(source: AbortEmitter | AbortSignal, listener: () => void): void {
  if ('removeEventListener' in source) source.removeEventListener('abort', listener);
  else source.removeListener('abort', listener);
}

/**
 * Sends one request with a body through GuardedSend. A request refused by a GOAWAY is sent once
 * more on the next connection, as undici does for buffer bodies (MAX_GOAWAY_REPLAY_ATTEMPTS 1).
 */
export async function sendGuarded(
  dispatcher: Dispatcher,
  signal: AbortEmitter | AbortSignal,
  options: Omit<Dispatcher.RequestOptions, 'signal' | 'body'>,
  body: string,
): Promise<Dispatcher.ResponseData> {
  for (let attempt = 0; ; attempt++) {
    const send = new GuardedSend(dispatcher, signal);
    try {
      return await send.request(options, body);
    } catch (error) {
      if (attempt >= 1 || !send.refusedByGoaway(error)) throw error;
    }
  }
}
