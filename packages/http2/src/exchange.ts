import {
  type ConnectionMetrics,
  ErrorCode,
  envelopeOf,
  isModernProtocolVersion,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  keepRawJson,
  type McpConnectionError,
  MetaKey,
  ProtocolError,
  parseMessages,
  type RequestOptions,
  SessionExpiredError,
  standardHeadersFor,
  TimeoutError,
  UnexpectedContentTypeError,
} from '@mcp/connection-core';
import { CoarseDeadline, type DeadlineOwner } from './deadline-wheel.ts';
import { sendPost } from './guarded-send.ts';
import {
  type AbortEmitter,
  answerStatusError,
  type HttpTarget,
  headerValue,
  noop,
} from './http.ts';
import type { SlotWaiter } from './limiter.ts';
import type { ResolvedHttp2ConnectionOptions } from './options.ts';
import { type SessionState, withOwnHeaders } from './session.ts';
import { readSseResponse } from './sse-response.ts';

/** What an exchange needs from its connection. */
export interface ExchangeHost {
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly metrics: ConnectionMetrics;
  readonly options: ResolvedHttp2ConnectionOptions;
  /** Gives the request's slot back (it held one unless it was sent outside the limit). */
  releaseSlot(): void;
  /** Takes a waiting exchange out of the queue. */
  leaveQueue(exchange: RequestExchange): void;
  exchangeSettled(exchange: RequestExchange): void;
  /** The session replay in progress, if any: requests wait for it before they are sent. */
  readonly reinitializing: Promise<void> | undefined;
  /** Negotiates a new session unless `generation` is already outdated. */
  reinitialize(generation: number): Promise<void>;
  sendCancelled(id: JsonRpcId, reason: string): void;
  initializeAnswered(response: JsonRpcResponse, sessionId: string | undefined): void;
  /** A response to another request in flight; true when one took it. */
  routeResponse(response: JsonRpcResponse): boolean;
  /** A server request nobody listens to on this exchange: to `receive()`. */
  deliverUnrelated(message: JsonRpcMessage): void;
}

const POST_SUCCESS_TYPES = 'application/json or text/event-stream';

/**
 * One request, from the moment `request()` is called until its response (or failure): waits for
 * a slot, POSTs, reads a JSON or SSE answer, resumes a broken SSE stream with GET +
 * Last-Event-ID, replays the session after a 404 when allowed. Settles exactly once.
 * It is also the `signal` undici watches, so aborting costs no AbortController.
 */
export class RequestExchange implements SlotWaiter, AbortEmitter, DeadlineOwner {
  readonly id: JsonRpcId;
  readonly method: string;
  readonly promise: Promise<JsonRpcResponse>;
  #host: ExchangeHost;
  /** The request's JSON, encoded once (a replay after a 404 sends the same bytes). */
  #body: Buffer;
  #options: RequestOptions | undefined;
  #progressToken: unknown;
  #startedAt: number;
  #deadline: CoarseDeadline | undefined;
  #resolve!: (response: JsonRpcResponse) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #sent = false;
  #queued = false;
  #holdsSlot = false;
  // undici registers two listeners per HTTP request (its request handler, which destroys a body
  // being read, and its dispatch, which stops a request not yet answered): both must run.
  #abortListeners: Array<() => void> = [];
  #failure: McpConnectionError | undefined;
  #sessionHeader: string | undefined;
  #wake: (() => void) | undefined;
  #sleepTimer: NodeJS.Timeout | undefined;
  /** A 2026-07-28 request's MCP-Protocol-Version, Mcp-Method and Mcp-Name, from its body. */
  #standardHeaders: Record<string, string> | undefined;

  constructor(host: ExchangeHost, message: JsonRpcRequest, options: RequestOptions | undefined) {
    this.#host = host;
    this.id = message.id;
    this.method = message.method;
    this.#body = Buffer.from(JSON.stringify(message));
    this.#options = options;
    const params = message.params as { _meta?: { progressToken?: unknown } } | undefined;
    this.#progressToken = params?._meta?.progressToken;
    const claimed = envelopeOf(message)?.[MetaKey.PROTOCOL_VERSION];
    if (typeof claimed === 'string' && isModernProtocolVersion(claimed)) {
      this.#standardHeaders = standardHeadersFor(message, claimed);
    }
    this.#startedAt = host.metrics.requestStarted(this.method);
    this.promise = new Promise<JsonRpcResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Starts the time limit and runs now (`slot` true) or once `grant()` is called. */
  start(slot: boolean): void {
    const opts = this.#options;
    const defaults = this.#host.options;
    this.#deadline = new CoarseDeadline(
      this,
      opts?.signal,
      opts?.timeoutMs ?? defaults.requestTimeoutMs,
      opts?.resetTimeoutOnProgress ?? defaults.resetTimeoutOnProgress,
      opts?.maxTotalTimeoutMs ?? defaults.maxTotalTimeoutMs,
    );
    if (slot) this.grant();
    else this.#queued = true;
  }

  /** Runs outside the concurrency limit (session replay), with the default time limit only. */
  startUnlimited(): void {
    this.#deadline = new CoarseDeadline(this, undefined, this.#host.options.requestTimeoutMs);
    this.#run();
  }

  grant(): void {
    this.#queued = false;
    this.#holdsSlot = true;
    if (this.#settled) {
      this.#releaseSlot();
      return;
    }
    this.#run();
  }

  /** Settles with a response that arrived elsewhere (another body, the GET stream). */
  answer(response: JsonRpcResponse): void {
    this.#succeed(response);
  }

  /** Fails the request (close, queue full); the first failure wins. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failure = error as McpConnectionError;
    this.#cleanup();
    // Stop the HTTP/2 stream, if one is open: undici resets it.
    for (const listener of this.#abortListeners.splice(0)) listener();
    const code = (error as { code?: unknown }).code;
    this.#host.metrics.requestFailed(
      this.method,
      this.#startedAt,
      typeof code === 'string' ? code : ErrorCode.TRANSPORT,
    );
    this.#reject(error);
  }

  // AbortEmitter: what undici needs of a signal.
  get reason(): unknown {
    return this.#failure;
  }
  on(_event: 'abort', listener: () => void): this {
    this.#abortListeners.push(listener);
    return this;
  }
  once(_event: 'abort', listener: () => void): this {
    return this.on('abort', listener);
  }
  removeListener(_event: 'abort', listener: () => void): this {
    const i = this.#abortListeners.indexOf(listener);
    if (i !== -1) this.#abortListeners.splice(i, 1);
    return this;
  }

  async #run(): Promise<void> {
    try {
      await this.#exchange();
      if (!this.#settled) {
        throw new ProtocolError(
          ErrorCode.INVALID_MESSAGE,
          `The server's answer carried no response to request ${JSON.stringify(this.id)}`,
          false,
        );
      }
    } catch (error) {
      this.fail(error);
    }
  }

  async #exchange(): Promise<void> {
    const host = this.#host;
    const session = host.session;
    const isInitialize = this.method === 'initialize';
    let replayed = false;
    for (;;) {
      const replay = isInitialize ? undefined : host.reinitializing;
      if (replay !== undefined) {
        await replay;
        if (this.#settled) return;
      }
      const generation = session.generation;
      const sessionId = isInitialize ? undefined : session.sessionId;
      const pending = isInitialize ? session.initializeHeaders() : session.postHeaders(this.method);
      const headers = pending instanceof Promise ? await pending : pending;
      if (this.#settled) return;
      this.#sent = true;
      host.metrics.bytesSent(this.#body.byteLength);
      const standard = this.#standardHeaders;
      const own = withOwnHeaders(
        standard === undefined ? headers : { ...headers, ...standard },
        this.#options?.headers,
      );
      const answer = await sendPost(
        host.target,
        own,
        this.#body,
        this,
        host.options.maxResponseBytes,
        host.metrics,
      );
      if (this.#settled) {
        answer.body?.destroy();
        return;
      }
      const status = answer.statusCode;
      if (status >= 200 && status < 300 && status !== 202 && status !== 204) {
        if (isInitialize) this.#sessionHeader = headerValue(answer.headers, 'mcp-session-id');
        if (answer.kind === 'json') return this.#readJson(answer.bytes);
        if (answer.body !== undefined) return readSseResponse(host, answer.body, this);
        throw new UnexpectedContentTypeError(
          headerValue(answer.headers, 'content-type'),
          POST_SUCCESS_TYPES,
        );
      }
      if (status === 404 && sessionId !== undefined) {
        if (host.options.reinitialize && !replayed) {
          replayed = true;
          await host.reinitialize(generation);
          if (this.#settled) return;
          continue;
        }
        throw new SessionExpiredError(sessionId);
      }
      // A 2026-07-28 server answers a rejected request with a JSON-RPC error (HTTP 400/404).
      if (standard !== undefined && answer.kind === 'json' && !answer.truncated) {
        return this.#readJson(answer.bytes);
      }
      throw answerStatusError(answer);
    }
  }

  /** Routes the messages of a JSON answer, read whole by the handler: parsed once. */
  async #readJson(bytes: Buffer): Promise<void> {
    const messages = parseMessages(bytes);
    if (messages.length === 1 && this.#options?.keepRawResponse === true) {
      keepRawJson(messages[0] as JsonRpcMessage, bytes);
    }
    for (let i = 0; i < messages.length; i++) {
      const pending = this.handleMessage(messages[i] as JsonRpcMessage);
      if (pending !== undefined) await pending;
    }
  }

  /** Routes one message; a promise when the caller's onMessage asked to be waited for. */
  handleMessage(message: JsonRpcMessage): Promise<void> | undefined {
    if ('method' in message) {
      const isRequest = 'id' in message;
      if (isRequest) this.#host.session.serverRequestArrived((message as JsonRpcRequest).id);
      else {
        this.#host.metrics.notificationReceived(message.method);
        if (
          this.#progressToken !== undefined &&
          message.method === 'notifications/progress' &&
          (message.params as { progressToken?: unknown } | undefined)?.progressToken ===
            this.#progressToken
        ) {
          this.#deadline?.progress();
        }
      }
      const onMessage = this.#options?.onMessage;
      if (onMessage === undefined) {
        if (isRequest) this.#host.deliverUnrelated(message);
        return undefined;
      }
      try {
        const pending = onMessage(message);
        // The contract says onMessage must not throw or reject; what it does is ignored.
        return pending instanceof Promise ? pending.catch(noop) : undefined;
      } catch {
        return undefined;
      }
    }
    if (message.id === this.id) {
      this.#succeed(message);
      return undefined;
    }
    this.#host.routeResponse(message);
    return undefined;
  }

  #succeed(response: JsonRpcResponse): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cleanup();
    if (this.method === 'initialize') this.#host.initializeAnswered(response, this.#sessionHeader);
    this.#host.metrics.requestSucceeded(this.method, this.#startedAt);
    this.#resolve(response);
  }

  /** Called by the deadline: a timeout or the caller's abort. Tells the server to stop. */
  deadlineExpired(error: McpConnectionError): void {
    if (this.#settled) return;
    const sent = this.#sent;
    this.fail(error);
    if (sent && this.method !== 'initialize') {
      const reason =
        error instanceof TimeoutError
          ? error.message
          : `Request aborted${describeReason(this.#options?.signal?.reason)}`;
      this.#host.sendCancelled(this.id, reason);
    }
  }

  /** The caller's own headers (for the GETs that resume an SSE response). */
  get ownHeaders(): Readonly<Record<string, string>> | undefined {
    return this.#options?.headers;
  }

  /** Waits `ms`; settling the request ends the wait early. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = setTimeout(resolve, ms);
    });
  }

  #cleanup(): void {
    this.#deadline?.dispose();
    if (this.#sleepTimer !== undefined) {
      clearTimeout(this.#sleepTimer);
      this.#sleepTimer = undefined;
      this.#wake?.();
    }
    if (this.#queued) {
      this.#queued = false;
      this.#host.leaveQueue(this);
    }
    this.#releaseSlot();
    this.#host.exchangeSettled(this);
  }

  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#host.releaseSlot();
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return `: ${reason.message}`;
  if (typeof reason === 'string') return `: ${reason}`;
  return '';
}
