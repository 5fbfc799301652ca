import {
  AbortedError,
  type Connection,
  ConnectionClosedError,
  ConnectionMetrics,
  InvalidMessageError,
  isJsonRpcNotification,
  isJsonRpcResponse,
  isMcpConnectionError,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  LEGACY_PROTOCOL_VERSION,
  type McpConnectionError,
  type McpEra,
  MessageQueue,
  type ProtocolError,
  parseOptions,
  RequestDeadline,
  type RequestOptions,
  type SendOptions,
  UnknownResponseIdError,
} from '@mcp/connection-core';
import { Agent, type Dispatcher, H2CClient } from 'undici';
import { z } from 'zod';
import type { SseEvent } from './decode.ts';
import { asTransportError, statusError } from './http.ts';
import { openLegacyStream } from './legacy-endpoint.ts';
import { readMessages } from './message-reader.ts';

const binary = z.union([z.string(), z.instanceof(Uint8Array)]);
const pem = z.union([binary, z.array(binary)]);

export const SseConnectionOptionsSchema = z.strictObject({
  /** The server's SSE URL (the GET endpoint of a 2024-11-05 HTTP+SSE server). */
  url: z.union([z.url(), z.instanceof(URL)]).transform((u) => new URL(u)),
  /**
   * undici Dispatcher to send through (share a pool); default: an Agent of its own, built with
   * `tls` and `h2c`.
   */
  dispatcher: z
    .custom<Dispatcher>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Dispatcher).request === 'function',
      'expected an undici Dispatcher',
    )
    .optional(),
  /** TLS settings of the connection's own dispatcher (e.g. `ca` to trust a private CA). */
  tls: z
    .strictObject({
      ca: pem.optional(),
      cert: pem.optional(),
      key: pem.optional(),
      rejectUnauthorized: z.boolean().optional(),
      servername: z.string().min(1).optional(),
    })
    .optional(),
  /** Cleartext HTTP/2 (prior knowledge) for the connection's own dispatcher. */
  h2c: z.boolean().default(false),
  /** Headers sent with the GET and every POST (e.g. authorization). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Default time limit of a request, in ms (RequestOptions.timeoutMs wins). */
  requestTimeoutMs: z.number().int().positive().optional(),
  /** How long to wait for the server's `endpoint` event, in ms. */
  endpointTimeoutMs: z.number().int().positive().default(30_000),
  /** Capacity of the queue of server-initiated messages read by `receive()`. */
  receiveQueueCapacity: z.number().int().positive().default(1024),
  /** Most characters buffered for one SSE event. */
  maxBufferSize: z.number().int().positive().optional(),
  /** Set when the dispatcher speaks HTTP/2 (detected for an H2CClient). */
  multiplexed: z.boolean().optional(),
  /** Aborts connecting (not the connection once open: use `close()`). */
  signal: z.instanceof(AbortSignal).optional(),
  /**
   * Receives the server's protocol mistakes that belong to no request: a response with an
   * unknown id (UnknownResponseIdError), an event that is not JSON-RPC (InvalidMessageError).
   * They are reported here only. It must not throw.
   */
  onProtocolError: z
    .custom<(error: ProtocolError) => void>((v) => typeof v === 'function', 'expected a function')
    .optional(),
});

export type SseConnectionOptions = z.input<typeof SseConnectionOptionsSchema>;
type Options = z.output<typeof SseConnectionOptionsSchema>;

interface PendingRequest {
  method: string;
  startedAt: number;
  progressToken: unknown;
  options: RequestOptions;
  deadline: RequestDeadline;
  resolve: (response: JsonRpcResponse) => void;
  reject: (error: unknown) => void;
}

/** Ids of requests given up on (timeout, abort) whose late responses are dropped silently. */
const ABANDONED_IDS_LIMIT = 256;

/** An Agent for a connection given no dispatcher: TLS settings and h2c applied. */
function ownDispatcher(options: Options): Dispatcher {
  // `useH2c` is read by the Agent's connector but missing from its type.
  return new Agent({
    allowH2: true,
    ...(options.h2c ? { useH2c: true } : {}),
    ...(options.tls === undefined ? {} : { connect: { ...options.tls } }),
  } as Agent.Options);
}

/**
 * A Connection over the legacy 2024-11-05 HTTP+SSE transport: one long GET stream carries every
 * server message; each client message is POSTed to the endpoint the stream announced.
 */
export async function createSseConnection(options: SseConnectionOptions): Promise<SseConnection> {
  const parsed = parseOptions(SseConnectionOptionsSchema, options, 'SSE connection options');
  const ownsDispatcher = parsed.dispatcher === undefined;
  const dispatcher = parsed.dispatcher ?? ownDispatcher(parsed);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parsed.signal?.reason);
  parsed.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const stream = await openLegacyStream({
      url: parsed.url,
      dispatcher,
      headers: parsed.headers,
      signal: controller.signal,
      endpointTimeoutMs: parsed.endpointTimeoutMs,
      maxBufferSize: parsed.maxBufferSize,
    });
    return new SseConnection(parsed, dispatcher, ownsDispatcher, controller, stream);
  } catch (err) {
    controller.abort();
    if (ownsDispatcher) await dispatcher.destroy().catch(() => {});
    throw err;
  } finally {
    parsed.signal?.removeEventListener('abort', onAbort);
  }
}

export class SseConnection implements Connection {
  readonly metrics: ConnectionMetrics;
  readonly isMultiplexed: boolean;
  readonly sessionId: string | undefined;
  /** Where messages are POSTed. */
  readonly endpoint: URL;
  #protocolVersion: string | undefined;
  #options: Options;
  #dispatcher: Dispatcher;
  #ownsDispatcher: boolean;
  #controller: AbortController;
  #queue: MessageQueue<JsonRpcMessage>;
  #pending = new Map<JsonRpcId, PendingRequest>();
  #abandoned = new Set<JsonRpcId>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #readLoop: Promise<void>;

  /** Use createSseConnection. */
  constructor(
    options: Options,
    dispatcher: Dispatcher,
    ownsDispatcher: boolean,
    controller: AbortController,
    stream: { endpoint: URL; sessionId: string | undefined; events: AsyncIterable<SseEvent> },
  ) {
    this.#options = options;
    this.#dispatcher = dispatcher;
    this.#ownsDispatcher = ownsDispatcher;
    this.#controller = controller;
    this.endpoint = stream.endpoint;
    this.sessionId = stream.sessionId;
    this.metrics = new ConnectionMetrics(options.url.href);
    this.isMultiplexed = options.multiplexed ?? (options.h2c || dispatcher instanceof H2CClient);
    this.#queue = new MessageQueue(options.receiveQueueCapacity);
    this.#readLoop = this.#read(stream.events);
  }

  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  /** The HTTP+SSE transport predates the stateless era: always 2025-11-25 (or older). */
  get era(): McpEra {
    return LEGACY_PROTOCOL_VERSION;
  }

  get discovery(): undefined {
    return undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(message: JsonRpcRequest, options: RequestOptions = {}): Promise<JsonRpcResponse> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    if (options.signal?.aborted) {
      return Promise.reject(new AbortedError({ cause: options.signal.reason }));
    }
    if (this.#pending.has(message.id)) {
      return Promise.reject(
        new InvalidMessageError(
          'bad-id',
          `a request with id ${JSON.stringify(message.id)} is in flight`,
        ),
      );
    }
    const { id, method } = message;
    const meta = (message.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta;
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      const startedAt = this.metrics.requestStarted(method);
      const deadline = new RequestDeadline(
        {
          signal: options.signal,
          timeoutMs: options.timeoutMs ?? this.#options.requestTimeoutMs,
          resetTimeoutOnProgress: options.resetTimeoutOnProgress,
          maxTotalTimeoutMs: options.maxTotalTimeoutMs,
        },
        (error) => this.#abandon(id, error),
      );
      this.#pending.set(id, {
        method,
        startedAt,
        progressToken: meta?.progressToken,
        options,
        deadline,
        resolve,
        reject,
      });
      this.#post(message, undefined, options.headers).catch((error: unknown) =>
        this.#fail(id, error),
      );
    });
  }

  async notify(notification: JsonRpcNotification, options: SendOptions = {}): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    await this.#post(notification, options.signal, options.headers);
    this.metrics.notificationSent(notification.method);
  }

  async respond(response: JsonRpcResponse, options: SendOptions = {}): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    await this.#post(response, options.signal, options.headers);
  }

  receive(): Promise<JsonRpcMessage | undefined> {
    return this.#queue.take();
  }

  [Symbol.asyncIterator](): AsyncIterator<JsonRpcMessage> {
    return this.#queue[Symbol.asyncIterator]();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown(new ConnectionClosedError());
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(reason: McpConnectionError): Promise<void> {
    this.#closed = true;
    this.#controller.abort(reason);
    for (const id of [...this.#pending.keys()]) this.#fail(id, reason);
    this.#queue.close();
    await this.#readLoop;
    if (this.#ownsDispatcher) await this.#dispatcher.close().catch(() => {});
  }

  async #post(
    message: JsonRpcMessage,
    signal?: AbortSignal,
    own?: Readonly<Record<string, string>>,
  ): Promise<void> {
    const body = JSON.stringify(message);
    const signals = signal ? [this.#controller.signal, signal] : [this.#controller.signal];
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: this.endpoint.origin,
        path: this.endpoint.pathname + this.endpoint.search,
        method: 'POST',
        headers: { ...this.#options.headers, ...own, 'content-type': 'application/json' },
        body,
        signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals),
      });
    } catch (err) {
      if (this.#closed) throw new ConnectionClosedError(undefined, { cause: err });
      throw asTransportError(err, 'POST to the message endpoint failed');
    }
    this.metrics.bytesSent(Buffer.byteLength(body));
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw await statusError(response, this.sessionId);
    }
    await response.body.dump();
  }

  async #read(events: AsyncIterable<SseEvent>): Promise<void> {
    let failure: unknown;
    try {
      for await (const event of events) {
        if (event.event !== undefined && event.event !== 'message') continue;
        if (event.data === '') continue;
        this.metrics.bytesReceived(Buffer.byteLength(event.data));
        for (const item of readMessages(event)) {
          if (item.kind === 'invalid') this.#reportProtocolError(item.error);
          else await this.#dispatch(item.message);
        }
      }
    } catch (err) {
      failure = err;
    }
    if (!this.#closed) {
      // The server ended the stream: the legacy transport cannot resume, so the session is over.
      const reason = new ConnectionClosedError(
        'The server closed the SSE stream',
        failure === undefined ? undefined : { cause: failure },
      );
      this.#closing ??= this.#shutdown(reason);
    }
  }

  async #dispatch(message: JsonRpcMessage): Promise<void> {
    if (isJsonRpcResponse(message)) {
      const id = message.id;
      const pending = id === null ? undefined : this.#pending.get(id);
      if (pending === undefined) {
        if (id !== null && this.#abandoned.delete(id)) return;
        this.#reportProtocolError(new UnknownResponseIdError(id));
        return;
      }
      this.#settle(id as JsonRpcId, pending);
      // A JSON-RPC error response is a success of the transport.
      this.metrics.requestSucceeded(pending.method, pending.startedAt);
      if ('result' in message && pending.method === 'initialize') {
        this.#noteInitialize(message.result);
      }
      pending.resolve(message);
      return;
    }
    if (isJsonRpcNotification(message)) {
      this.metrics.notificationReceived(message.method);
      if (message.method === 'notifications/progress' && this.#routeProgress(message)) return;
    }
    try {
      await this.#queue.put(message);
    } catch {
      // Closed while waiting for room: the message has nobody left to read it.
    }
  }

  #routeProgress(message: JsonRpcNotification): boolean {
    const token = (message.params as { progressToken?: unknown } | undefined)?.progressToken;
    if (token === undefined) return false;
    for (const pending of this.#pending.values()) {
      if (pending.progressToken !== token) continue;
      pending.deadline.progress();
      try {
        pending.options.onMessage?.(message);
      } catch {
        // onMessage must not throw; what it throws is ignored.
      }
      return true;
    }
    return false;
  }

  #noteInitialize(result: unknown): void {
    const version = (result as { protocolVersion?: unknown } | null)?.protocolVersion;
    if (typeof version === 'string') this.#protocolVersion = version;
  }

  /** The request timed out or was aborted: stop waiting and tell the server. */
  #abandon(id: JsonRpcId, error: McpConnectionError): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#fail(id, error);
    this.#abandoned.add(id);
    if (this.#abandoned.size > ABANDONED_IDS_LIMIT) {
      this.#abandoned.delete(this.#abandoned.values().next().value as JsonRpcId);
    }
    if (pending.method === 'initialize' || this.#closed) return;
    const cancel: JsonRpcNotification = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: error.message },
    };
    // Best effort: the request has already failed with its own error.
    this.notify(cancel).catch(() => {});
  }

  #fail(id: JsonRpcId, error: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#settle(id, pending);
    const code = isMcpConnectionError(error) ? (error as McpConnectionError).code : 'MCP_TRANSPORT';
    this.metrics.requestFailed(pending.method, pending.startedAt, code);
    pending.reject(error);
  }

  #settle(id: JsonRpcId, pending: PendingRequest): void {
    this.#pending.delete(id);
    pending.deadline.dispose();
  }

  #reportProtocolError(error: ProtocolError): void {
    try {
      this.#options.onProtocolError?.(error);
    } catch {
      // Must not throw; what it throws is ignored.
    }
  }
}
