import {
  type Connection,
  ConnectionClosedError,
  ConnectionMetrics,
  type DiscoverResult,
  envelopeOf,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  LEGACY_PROTOCOL_VERSION,
  type McpEra,
  MessageQueue,
  MODERN_PROTOCOL_VERSION,
  type RequestOptions,
  type SendOptions,
  SessionExpiredError,
  type SubscriptionFilter,
  UnsupportedError,
} from '@mcp/connection-core';
import { deleteSession } from './delete-session.ts';
import { createOwnDispatcher, type DispatcherHandle, wrapDispatcher } from './dispatcher.ts';
import { negotiate, withEnvelope } from './era.ts';
import { RequestExchange } from './exchange.ts';
import { type HttpTarget, noop } from './http.ts';
import { InputRounds } from './input-rounds.ts';
import { ConcurrencyLimiter } from './limiter.ts';
import { sendOneWay } from './one-way.ts';
import {
  type Http2ConnectionOptions,
  parseHttp2ConnectionOptions,
  type ReconnectionOptions,
  type ResolvedHttp2ConnectionOptions,
} from './options.ts';
import {
  type ServerStreamOpened,
  ServerStreamSlot,
  serverStreamOpened,
} from './server-stream-slot.ts';
import { type AdoptedSession, SessionState } from './session.ts';
import { Subscription, type SubscriptionOptions } from './subscription.ts';

const INITIALIZED = 'notifications/initialized';

/**
 * Creates a connection to an MCP server over the Streamable HTTP transport, multiplexing
 * concurrent requests as HTTP/2 streams on one TCP connection (HTTP/1.1 still works when the
 * server offers nothing else). Throws InvalidOptionsError naming the bad option.
 */
export function createHttp2Connection(options: Http2ConnectionOptions): Http2Connection {
  return new Http2Connection(parseHttp2ConnectionOptions(options));
}

export class Http2Connection implements Connection {
  readonly metrics: ConnectionMetrics;
  readonly options: ResolvedHttp2ConnectionOptions;
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly queue: MessageQueue<JsonRpcMessage>;
  #dispatcher: DispatcherHandle;
  #limiter: ConcurrencyLimiter;
  #inFlight = new Map<JsonRpcId, RequestExchange>();
  /** The GET stream: wanted from `initialized` ('auto') or on demand, open or not. */
  readonly #serverStream: ServerStreamSlot;
  #reinitializing: Promise<void> | undefined;
  /** The id of a session that expired and could not be renewed: nothing more is sent in it. */
  #lost: string | undefined;
  /** The replayed `initialize` in flight (kept apart: its id may be reused by the caller). */
  #replayExchange: RequestExchange | undefined;
  readonly #input = new InputRounds();
  #closed = false;
  /** The shutdown, once started; resolves with the server's answer to its DELETE, if any. */
  #closing: Promise<number | undefined> | undefined;

  /** Use `createHttp2Connection`, which validates the options. */
  constructor(options: ResolvedHttp2ConnectionOptions) {
    this.options = options;
    const url = options.url;
    this.#dispatcher =
      options.dispatcher === undefined
        ? createOwnDispatcher({
            origin: url.origin,
            h2c: options.h2c,
            tls: options.tls,
            initialWindowSize: options.initialWindowSize,
            connectionWindowSize: options.connectionWindowSize,
          })
        : wrapDispatcher(options.dispatcher, url);
    this.target = {
      dispatcher: this.#dispatcher.dispatcher,
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
    };
    this.metrics = new ConnectionMetrics(url.href);
    this.session = new SessionState(options.headers);
    this.queue = new MessageQueue(options.receiveQueueCapacity);
    this.#limiter = new ConcurrencyLimiter(
      options.maxConcurrentRequests,
      options.maxQueuedRequests,
    );
    this.#serverStream = new ServerStreamSlot(this, options.serverStream === 'auto');
  }

  get sessionId(): string | undefined {
    return this.session.sessionId;
  }

  get protocolVersion(): string | undefined {
    return this.session.protocolVersion;
  }

  get era(): McpEra | undefined {
    return this.session.era;
  }

  get discovery(): DiscoverResult | undefined {
    return this.session.discovery;
  }

  /** 'h2' or 'h1' once a connection is up (h2c is known to be 'h2' from the start). */
  get httpProtocol(): 'h1' | 'h2' | undefined {
    return this.#dispatcher.protocol;
  }

  get isMultiplexed(): boolean {
    return this.#dispatcher.protocol === 'h2';
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The id of a session that expired and could not be renewed, until a new one starts. */
  get lostSession(): string | undefined {
    return this.#lost;
  }

  get reconnection(): ReconnectionOptions {
    return this.options.reconnection;
  }

  request(message: JsonRpcRequest, options?: RequestOptions): Promise<JsonRpcResponse> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    const envelope = this.session.envelope;
    // The handshake to translate; an `initialize` that carries the envelope is sent as it is.
    const handshake = message.method === 'initialize' && envelopeOf(message) === undefined;
    if (handshake && this.options.era !== LEGACY_PROTOCOL_VERSION) {
      return negotiate(this, message, options);
    }
    if (envelope === undefined) return this.send(message, options);
    const send = (m: JsonRpcRequest) => this.send(m, options);
    const timeoutMs = options?.timeoutMs ?? this.options.requestTimeoutMs;
    return this.#input.request(send, withEnvelope(message, envelope), options, timeoutMs);
  }

  /** Sends a request as it is: the era's envelope, if any, is already in it. */
  send(message: JsonRpcRequest, options: RequestOptions | undefined): Promise<JsonRpcResponse> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    if (message.method === 'initialize') this.session.initializeRequest = message;
    else if (this.#lost !== undefined) return Promise.reject(new SessionExpiredError(this.#lost));
    const exchange = new RequestExchange(this, message, options);
    this.#inFlight.set(exchange.id, exchange);
    if (this.#limiter.tryAcquire()) {
      exchange.start(true);
    } else {
      try {
        this.#limiter.enqueue(exchange);
      } catch (error) {
        exchange.fail(error);
        return exchange.promise;
      }
      exchange.start(false);
    }
    return exchange.promise;
  }

  async notify(notification: JsonRpcNotification, options?: SendOptions): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    const method = notification.method;
    // The stateless era has no handshake to complete: `initialized` has no one to go to.
    if (method === INITIALIZED && this.session.era === MODERN_PROTOCOL_VERSION) return;
    if (method === INITIALIZED) this.session.initializedNotification = notification;
    await sendOneWay(this, notification, method, options, { mayReplay: true });
    this.metrics.notificationSent(method);
    if (method === INITIALIZED) this.#serverStream.start();
  }

  /**
   * Answers a server-to-client request. Rejects with SessionExpiredError, sending nothing, when
   * the session the request arrived in has been replaced (`reinitialize`): the answer belongs
   * to the old session.
   */
  async respond(response: JsonRpcResponse, options?: SendOptions): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    // 2026-07-28: the answer to an input request of a multi round-trip request (InputRounds).
    if (this.#input.answer(response)) return;
    const session = this.session.answerBelongsTo(response.id);
    await sendOneWay(this, response, 'response', options, { mayReplay: true, belongsTo: session });
  }

  /**
   * With `serverStream: 'on-demand'`: opens the GET stream (once the session is initialized)
   * and keeps it open, reopened as in 'auto', until `closeServerStream()`. `lastEventId` (see
   * `serverEventIdOf`) resumes one another connection followed; ignored while one is open.
   * Resolves with the server's answer to the stream ('open' at once while it is open, else the
   * next GET's) and the stream's end: a proxy answers its own client's GET once it knows.
   */
  async openServerStream(lastEventId?: string): Promise<ServerStreamOpened> {
    if (this.options.serverStream !== 'on-demand') {
      return serverStreamOpened('unavailable', 'stopped');
    }
    return this.#serverStream.openWanted(lastEventId, this.options.reinitialize === true);
  }

  /**
   * Continues a session another connection (process) initialized: requests carry its id and
   * version, `reinitialize` replays `initialize`. On the connection that initialized it, marks it
   * shared: its `notifications/initialized` may have gone through another, so it counts as sent.
   */
  adoptSession(session: AdoptedSession): void {
    this.#lost = undefined;
    this.session.adopt(session);
  }

  /** DELETE, then close; the server's status (404: it knew the session no more), if it answered. */
  endSession(): Promise<number | undefined> {
    return this.#close(true);
  }

  /** With `serverStream: 'on-demand'`: closes the GET stream (its request is aborted). */
  closeServerStream(): void {
    if (this.options.serverStream !== 'on-demand') return;
    this.#serverStream.close();
  }

  /** True while a GET stream is open or being (re)opened. */
  get serverStreamOpen(): boolean {
    return this.#serverStream.open;
  }

  /** 2026-07-28: opens a `subscriptions/listen` request, its notifications an async iterable. */
  listen(filter: SubscriptionFilter, options: SubscriptionOptions = {}): Subscription {
    if (this.session.era !== MODERN_PROTOCOL_VERSION) {
      throw new UnsupportedError('subscriptions/listen', 'the connection speaks 2025-11-25');
    }
    const timeoutMs = options.timeoutMs ?? this.options.maxTotalTimeoutMs;
    return new Subscription((m, o) => this.request(m, o), filter, { ...options, timeoutMs });
  }

  receive(): Promise<JsonRpcMessage | undefined> {
    return this.queue.take();
  }

  [Symbol.asyncIterator](): AsyncIterator<JsonRpcMessage> {
    return this.queue[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    await this.#close(this.options.endSessionOnClose);
  }

  #close(endSession: boolean): Promise<number | undefined> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = this.#shutdown(endSession);
    }
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ExchangeHost and ServerStreamHost -------------------------------------------------------

  releaseSlot(): void {
    this.#limiter.release();
  }

  leaveQueue(exchange: RequestExchange): void {
    this.#limiter.remove(exchange);
  }

  exchangeSettled(exchange: RequestExchange): void {
    if (this.#inFlight.get(exchange.id) === exchange) this.#inFlight.delete(exchange.id);
  }

  initializeAnswered(response: JsonRpcResponse, sessionId: string | undefined): void {
    if (!('result' in response)) return;
    this.#lost = undefined;
    const version = (response.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    this.session.established(
      sessionId,
      typeof version === 'string' ? version : this.options.protocolVersion,
    );
  }

  routeResponse(response: JsonRpcResponse): boolean {
    const id = response.id;
    const exchange = id === null ? undefined : this.#inFlight.get(id);
    if (exchange === undefined) return false;
    exchange.answer(response);
    return true;
  }

  deliverUnrelated(message: JsonRpcMessage): void {
    this.queue.put(message).catch(noop);
  }

  sendCancelled(id: JsonRpcId, reason: string): void {
    // In the stateless era the reset stream is the cancellation: nothing more to send.
    if (this.#closed || this.session.era === MODERN_PROTOCOL_VERSION) return;
    const method = 'notifications/cancelled';
    const notification: JsonRpcNotification = {
      jsonrpc: '2.0',
      method,
      params: { requestId: id, reason },
    };
    sendOneWay(this, notification, method, undefined, { mayReplay: false }).then(
      () => this.metrics.notificationSent(method),
      noop, // the request already failed with its own error; this is best effort
    );
  }

  /** The session replay in progress, which requests wait for before they are sent. */
  get reinitializing(): Promise<void> | undefined {
    return this.#reinitializing;
  }

  reinitialize(generation: number): Promise<void> {
    if (this.#reinitializing !== undefined) return this.#reinitializing;
    if (this.session.generation !== generation) return Promise.resolve();
    const replay = this.#replaySession().finally(() => {
      this.#reinitializing = undefined;
    });
    this.#reinitializing = replay;
    return replay;
  }

  // internals -------------------------------------------------------------------------------

  async #replaySession(): Promise<void> {
    const expired = this.session.sessionId ?? '';
    const initialize = this.session.initializeRequest;
    if (initialize === undefined) throw new SessionExpiredError(expired);
    this.#serverStream.stop();
    this.session.reset();
    try {
      const exchange = new RequestExchange(this, initialize, undefined);
      this.#replayExchange = exchange;
      exchange.startUnlimited();
      const response = await exchange.promise.finally(() => {
        this.#replayExchange = undefined;
      });
      if (!('result' in response)) throw new SessionExpiredError(expired, { cause: response });
      const initialized = this.session.initializedNotification;
      if (initialized !== undefined) {
        await sendOneWay(this, initialized, INITIALIZED, undefined, {
          mayReplay: false,
          partOfReplay: true,
        });
        this.metrics.notificationSent(INITIALIZED);
        this.#serverStream.start();
      }
    } catch (cause) {
      this.#lost = expired;
      if (cause instanceof SessionExpiredError) throw cause;
      throw new SessionExpiredError(expired, { cause });
    }
  }

  async #shutdown(endSession: boolean): Promise<number | undefined> {
    const closedError = new ConnectionClosedError();
    for (const exchange of [...this.#inFlight.values()]) exchange.fail(closedError);
    this.#replayExchange?.fail(closedError);
    const stream = this.#serverStream.take();
    this.queue.close();
    let status: number | undefined;
    if (this.session.sessionId !== undefined && endSession) {
      // The server ends the GET stream when it deletes the session: no reset needed.
      stream?.finish();
      status = await deleteSession(this.target, this.session);
    }
    stream?.stop();
    await stream?.done;
    await this.#dispatcher.close();
    return status;
  }
}
