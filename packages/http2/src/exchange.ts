import {
  ErrorCode,
  envelopeOf,
  isModernProtocolVersion,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type McpConnectionError,
  MetaKey,
  ProtocolError,
  type RequestOptions,
  SessionExpiredError,
  standardHeadersFor,
  TimeoutError,
  UnexpectedContentTypeError,
} from '@mcp/connection-core';
import { CoarseDeadline } from './deadline-wheel.ts';
import type { ExchangeHost } from './exchange-host.ts';
import { GuardedSend } from './guarded-send.ts';
import { type AbortEmitter, answerStatusError, headerValue, noop } from './http.ts';
import { routeJsonAnswer } from './json-answer.ts';
import type { SlotWaiter } from './limiter.ts';
import type { PostAnswer, PostReceiver } from './post-answer.ts';
import { ResumeWaits } from './resume-waits.ts';
import { type HeaderRecord, withOwnHeaders } from './session.ts';
import { readSseResponse } from './sse-response.ts';

const POST_SUCCESS_TYPES = 'application/json or text/event-stream';

/**
 * One request, from the moment `request()` is called until its response (or failure): waits for
 * a slot, POSTs, reads a JSON or SSE answer, resumes a broken SSE stream with GET +
 * Last-Event-ID, replays the session after a 404 when allowed. Settles exactly once.
 * It is also the `signal` undici watches, so aborting costs no AbortController.
 */
export class RequestExchange
  extends CoarseDeadline
  implements SlotWaiter, AbortEmitter, PostReceiver
{
  readonly id: JsonRpcId;
  readonly method: string;
  readonly promise: Promise<JsonRpcResponse>;
  #host: ExchangeHost;
  /** The request's JSON, encoded once (a replay after a 404 sends the same bytes). */
  #body: Buffer;
  #options: RequestOptions | undefined;
  #progressToken: unknown;
  #startedAt: number;
  #resolve!: (response: JsonRpcResponse) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #sent = false;
  #queued = false;
  #holdsSlot = false;
  /** The POST under way (until its answer was read): `fail()` aborts it. */
  #send: GuardedSend | undefined;
  // The session the POST went out in: its generation and id (none for `initialize`), for a 404.
  #generation = 0;
  #sessionId: string | undefined;
  #replayed = false;
  /** GETs' abort listeners and the wait between attempts, once an SSE answer is resumed. */
  #resume: ResumeWaits | undefined;
  #failure: McpConnectionError | undefined;
  #sessionHeader: string | undefined;
  /** A 2026-07-28 request's MCP-Protocol-Version, Mcp-Method and Mcp-Name, from its body. */
  #standardHeaders: Record<string, string> | undefined;

  constructor(host: ExchangeHost, message: JsonRpcRequest, options: RequestOptions | undefined) {
    super();
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
    this.startDeadline(
      opts?.signal,
      opts?.timeoutMs ?? defaults.requestTimeoutMs,
      opts?.resetTimeoutOnProgress ?? defaults.resetTimeoutOnProgress,
      opts?.maxTotalTimeoutMs ?? defaults.maxTotalTimeoutMs,
      this.#startedAt,
    );
    if (slot) this.grant();
    else this.#queued = true;
  }

  /** Runs outside the concurrency limit (session replay), with the default time limit only. */
  startUnlimited(): void {
    this.startDeadline(undefined, this.#host.options.requestTimeoutMs);
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
    const send = this.#send;
    if (send !== undefined) {
      this.#send = undefined;
      send.abort(error);
    }
    this.#resume?.abort();
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
    this.#resumeWaits().add(listener);
    return this;
  }
  once(_event: 'abort', listener: () => void): this {
    return this.on('abort', listener);
  }
  removeListener(_event: 'abort', listener: () => void): this {
    this.#resume?.remove(listener);
    return this;
  }

  /**
   * Sends the request (again, after a session replay): waits for a replay in progress and for
   * the session's headers only when they are not ready, then POSTs. Nothing here is an async
   * function: while the request waits for its answer it holds no async frame, only the
   * GuardedSend that will call `postAnswered` or `postFailed`.
   */
  #run(): void {
    const replay = this.method === 'initialize' ? undefined : this.#host.reinitializing;
    if (replay === undefined) {
      this.#prepare();
      return;
    }
    replay.then(
      () => {
        if (!this.#settled) this.#prepare();
      },
      (error: unknown) => this.fail(error),
    );
  }

  #prepare(): void {
    try {
      const session = this.#host.session;
      this.#generation = session.generation;
      this.#sessionId = this.method === 'initialize' ? undefined : session.sessionId;
      const pending =
        this.method === 'initialize'
          ? session.initializeHeaders()
          : session.postHeaders(this.method);
      if (!(pending instanceof Promise)) {
        this.#post(pending);
        return;
      }
      pending.then(
        (headers) => {
          if (this.#settled) return;
          try {
            this.#post(headers);
          } catch (error) {
            this.fail(error);
          }
        },
        (error: unknown) => this.fail(error),
      );
    } catch (error) {
      this.fail(error);
    }
  }

  #post(headers: HeaderRecord): void {
    const host = this.#host;
    this.#sent = true;
    host.metrics.bytesSent(this.#body.byteLength);
    const standard = this.#standardHeaders;
    const own = withOwnHeaders(
      standard === undefined ? headers : { ...headers, ...standard },
      this.#options?.headers,
    );
    const send = new GuardedSend(
      host.target,
      'caller',
      host.options.maxResponseBytes,
      host.metrics,
      this,
    );
    this.#send = send;
    send.send(own, this.#body);
  }

  /** PostReceiver: the POST failed (or was aborted: then the request has already failed). */
  postFailed(error: unknown): void {
    this.#send = undefined;
    this.fail(error);
  }

  /** PostReceiver: the POST's answer, its JSON body whole or its SSE body arriving. */
  postAnswered(answer: PostAnswer): void {
    if (this.#settled) {
      this.#send = undefined;
      answer.body?.destroy();
      return;
    }
    try {
      const status = answer.statusCode;
      if (status >= 200 && status < 300 && status !== 202 && status !== 204) {
        if (this.method === 'initialize') {
          this.#sessionHeader = headerValue(answer.headers, 'mcp-session-id');
        }
        if (answer.kind === 'json') {
          this.#send = undefined;
          this.#readJson(answer.bytes);
          return;
        }
        const body = answer.body;
        if (body !== undefined) {
          // The send stays: an abort must still reach the stream while it is read.
          readSseResponse(this.#host, body, this).then(
            () => this.#answerRead(),
            (error: unknown) => this.fail(error),
          );
          return;
        }
        throw new UnexpectedContentTypeError(
          headerValue(answer.headers, 'content-type'),
          POST_SUCCESS_TYPES,
        );
      }
      this.#send = undefined;
      const sessionId = this.#sessionId;
      if (status === 404 && sessionId !== undefined) {
        if (this.#host.options.reinitialize && !this.#replayed) {
          this.#replayed = true;
          this.#host.reinitialize(this.#generation).then(
            () => {
              if (!this.#settled) this.#run();
            },
            (error: unknown) => this.fail(error),
          );
          return;
        }
        throw new SessionExpiredError(sessionId);
      }
      // A 2026-07-28 server answers a rejected request with a JSON-RPC error (HTTP 400/404).
      if (this.#standardHeaders !== undefined && answer.kind === 'json' && !answer.truncated) {
        this.#readJson(answer.bytes);
        return;
      }
      throw answerStatusError(answer);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Routes the messages of a JSON answer (read whole by the handler). */
  #readJson(bytes: Buffer): void {
    const pending = routeJsonAnswer(bytes, this.#options?.keepRawResponse === true, this);
    if (pending === undefined) this.#answerRead();
    else {
      pending.then(
        () => this.#answerRead(),
        (error: unknown) => this.fail(error),
      );
    }
  }

  /** The whole answer was read: it must have carried the response. */
  #answerRead(): void {
    this.#send = undefined;
    if (this.#settled) return;
    this.fail(
      new ProtocolError(
        ErrorCode.INVALID_MESSAGE,
        `The server's answer carried no response to request ${JSON.stringify(this.id)}`,
        false,
      ),
    );
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
          this.deadlineProgress();
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
    return this.#resumeWaits().sleep(ms);
  }

  #resumeWaits(): ResumeWaits {
    if (this.#resume === undefined) this.#resume = new ResumeWaits();
    return this.#resume;
  }

  #cleanup(): void {
    this.disposeDeadline();
    this.#resume?.wake();
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
