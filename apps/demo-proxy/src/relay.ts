import { performance } from 'node:perf_hooks';
import {
  AbortedError,
  isJsonRpcErrorResponse,
  isJsonRpcRequest,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  jsonRpcError,
  rawJsonOf,
  SessionExpiredError,
  TimeoutError,
} from '@mcp/connection-core';
import { serverEventIdOf } from '@mcp/http2';
import { RelayAbort } from './abort-reasons.ts';
import type { ProxyContext } from './context.ts';
import { type EventStream, openEventStream } from './event-stream.ts';
import { SESSION_HEADER } from './handlers/common.ts';
import { clientGone, type ResponseSink } from './http-types.ts';
import type { Logger } from './logger.ts';
import { methodLabel, type RequestOutcome } from './metrics.ts';
import { originBusyRejection } from './origin-busy.ts';
import { sendEmpty, sendJson, sendJsonBytes, sendRejection } from './replies.ts';
import type { RequestStats } from './request-stats.ts';
import type { ProxySession } from './session-registry.ts';
import type { AcceptedFormats } from './validate.ts';

/** JSON-RPC error code the SDK uses for a request that timed out. */
export const REQUEST_TIMEOUT_CODE = -32001;
/** JSON-RPC error code of an exchange whose related messages passed its byte budget. */
export const BUFFER_EXCEEDED_CODE = -32010;

/** The relay a response belongs to, for the one 'close' listener every relayed response shares. */
const kRelay = Symbol('relay');
type RelayedResponse = ResponseSink & { [kRelay]?: RequestRelay | undefined };

/** A client that goes away aborts its upstream request (one listener, no closure per request). */
function responseClosed(this: RelayedResponse): void {
  if (!this.writableEnded) this[kRelay]?.abort(new RelayAbort('client-gone'));
}

export interface RequestRelayOptions {
  ctx: ProxyContext;
  session: ProxySession;
  request: JsonRpcRequest;
  res: ResponseSink;
  formats: AcceptedFormats;
  /** Headers of this request's upstream HTTP requests only (its own credentials). */
  upstreamHeaders: Record<string, string> | undefined;
  log: Logger;
}

/**
 * One request sent upstream and answered downstream, as plain steps the POST handler runs in
 * its own async frame: `send(request)` (the upstream request), then `answered(response)` or
 * `failed(error)`, then `finish(outcome)`. Messages related to the request (progress, logging,
 * server-to-client requests) go out first, in order, on an SSE response opened when the first
 * of them arrives; a response with none before it goes out as JSON when the client accepts
 * JSON. A client that goes away aborts the upstream request. Answering a session-expired
 * upstream is left to the caller.
 *
 * Every answer carries the session id: the store's current one, or for `initialize` the one
 * the store gives the session it starts (a sealed token).
 */
export class RequestRelay {
  readonly #ctx: ProxyContext;
  readonly #session: ProxySession;
  // The request's id and method, not the parsed request: its params (a tool's arguments) are
  // not kept while the upstream answer is awaited. `initialize` alone is kept, for the store.
  readonly #id: JsonRpcId;
  readonly #method: string;
  readonly #initialize: JsonRpcRequest | undefined;
  readonly #res: RelayedResponse;
  readonly #json: boolean;
  readonly #sse: boolean;
  readonly #upstreamHeaders: Record<string, string> | undefined;
  readonly #log: Logger;
  readonly #controller = new AbortController();
  readonly #stats: RequestStats;
  readonly #startedAt = performance.now();
  #stream: EventStream | undefined;
  /** The id an answered `initialize` gives the client. */
  #startedId: string | undefined;

  constructor(options: RequestRelayOptions) {
    const { ctx, session, request, res } = options;
    this.#ctx = ctx;
    this.#session = session;
    this.#id = request.id;
    this.#method = request.method;
    this.#initialize = request.method === 'initialize' ? request : undefined;
    this.#res = res;
    this.#json = options.formats.json;
    this.#sse = options.formats.sse;
    this.#upstreamHeaders = options.upstreamHeaders;
    this.#log = options.log;
    this.#stats = ctx.metrics.requestStats(session.upstream.name, methodLabel(request.method));
    this.#res[kRelay] = this;
    this.#res.on('close', responseClosed);
    session.inFlight.set(request.id, this.#controller);
    this.#stats.inFlight++;
    ctx.load.enter();
  }

  abort(reason: RelayAbort): void {
    this.#controller.abort(reason);
  }

  /**
   * Sends `request` (the one the relay was made for) upstream. A client that left before we got
   * here sends nothing upstream.
   */
  send(request: JsonRpcRequest): Promise<JsonRpcResponse> {
    if (clientGone(this.#res)) {
      return Promise.reject(new AbortedError({ cause: new RelayAbort('client-gone') }));
    }
    const { limits } = this.#ctx.config;
    try {
      return this.#session.connection.request(request, {
        signal: this.#controller.signal,
        timeoutMs: limits.requestTimeoutMs,
        resetTimeoutOnProgress: true,
        maxTotalTimeoutMs: limits.maxTotalTimeoutMs,
        onMessage: this.#onMessage,
        headers: this.#upstreamHeaders,
        // The response goes to the client unchanged (same id): relay its bytes.
        keepRawResponse: true,
      });
    } catch (error) {
      // A connection that throws instead of rejecting still ends in failed() and finish().
      return Promise.reject(error);
    }
  }

  /** Sends the upstream's response downstream. */
  answered(response: JsonRpcResponse): RequestOutcome {
    this.#answer(response);
    return isJsonRpcErrorResponse(response) ? 'jsonrpc_error' : 'ok';
  }

  /** Answers the client for an upstream request that failed with `err`. */
  failed(err: unknown): RequestOutcome {
    const res = this.#res;
    const id = this.#id;
    const stream = this.#stream;
    if (err instanceof AbortedError) {
      const reason: unknown = this.#controller.signal.reason;
      if (reason instanceof RelayAbort && reason.why === 'buffer-exceeded') {
        // The client may never read it; the write timeout bounds that.
        stream?.send(jsonRpcError(id, BUFFER_EXCEEDED_CODE, 'Exchange buffer exceeded'));
        stream?.end();
        return 'buffer_exceeded';
      }
      if (stream) stream.end();
      else if (reason instanceof RelayAbort && reason.why === 'session-closed') {
        sendRejection(res, { status: 404, message: 'Session not found' }, id);
      } else {
        // Cancelled by the client: no JSON-RPC response is due; end the exchange empty.
        sendEmpty(res, 204, this.#headers());
      }
      return 'cancelled';
    }
    if (err instanceof TimeoutError) {
      this.#answer(jsonRpcError(id, REQUEST_TIMEOUT_CODE, 'Upstream request timed out'));
      return 'timeout';
    }
    if (err instanceof SessionExpiredError) {
      if (stream) stream.end();
      else sendRejection(res, { status: 404, message: 'Session not found' }, id);
      return 'session_expired';
    }
    // A pool budget that ran out is 503 with Retry-After (and its own log line and metric).
    const busy = originBusyRejection(this.#ctx, this.#session, err, this.#log);
    if (!busy) this.#log.warn({ err, method: this.#method }, 'upstream request failed');
    const rejection = busy ?? {
      status: 502,
      message: 'Bad Gateway: upstream request failed',
      rpcCode: -32603,
    };
    if (stream) {
      stream.send(jsonRpcError(id, -32603, rejection.message));
      stream.end();
    } else {
      sendRejection(res, rejection, id);
    }
    return busy ? 'upstream_busy' : 'upstream_error';
  }

  /** The relay is over: its counts and bookkeeping end with `outcome`. */
  finish(outcome: RequestOutcome): void {
    this.#res.off('close', responseClosed);
    this.#res[kRelay] = undefined;
    this.#session.inFlight.delete(this.#id);
    this.#stats.inFlight--;
    this.#ctx.load.leave();
    this.#stats.ended(outcome, (performance.now() - this.#startedAt) / 1000);
  }

  /**
   * A message related to the request. It waits for the client to take it: until it does, the
   * upstream stream is not read (backpressure). What waits is bounded by the exchange's byte
   * budget.
   */
  readonly #onMessage = (message: JsonRpcMessage): Promise<void> | undefined => {
    const ctx = this.#ctx;
    const session = this.#session;
    ctx.metrics.relayedMessages.inc({ upstream: session.upstream.name, kind: 'related' });
    if (this.#sse) {
      this.#stream ??= openEventStream(this.#res, this.#headers(), ctx.config.limits.keepAliveMs);
      const stream = this.#stream;
      stream.send(message);
      const budget = ctx.config.edge.maxExchangeBufferBytes;
      if (stream.backlogBytes > budget) {
        ctx.onEdgeLimit('exchange_buffer', { bytes: stream.backlogBytes, budget });
        this.#controller.abort(new RelayAbort('buffer-exceeded'));
        return undefined;
      }
      return stream.drained();
    }
    if (isJsonRpcRequest(message)) {
      // A JSON-only client cannot get it on this response: the GET stream may carry it.
      const event = session.events.push(message);
      const stream = session.serverStream;
      if (stream && !stream.closed) {
        stream.send(message, event.id);
        session.events.delivered(event);
      }
    }
    return undefined;
  };

  /** Headers every answer carries: the session id, read as the answer's headers go out. */
  #headers(): Record<string, string> {
    const id = this.#startedId ?? this.#ctx.store.currentId(this.#ctx, this.#session);
    return { [SESSION_HEADER]: id };
  }

  #answer(response: JsonRpcResponse): void {
    const stream = this.#stream;
    if (this.#initialize) {
      // A session whose upstream session was re-initialized on the way answers with its new id.
      this.#startedId = this.#ctx.store.started(this.#ctx, this.#session, {
        request: this.#initialize,
        response,
        headersSent: stream !== undefined,
      });
    }
    const res = this.#res;
    if (stream) {
      stream.send(response);
      stream.end();
    } else if (this.#json) {
      const raw = rawJsonOf(response);
      if (raw) sendJsonBytes(res, 200, raw, this.#headers());
      else sendJson(res, 200, response, this.#headers());
    } else {
      const only = openEventStream(res, this.#headers(), this.#ctx.config.limits.keepAliveMs);
      only.send(response);
      only.end();
    }
  }
}

/**
 * Reads the upstream's server-initiated messages for as long as the session lives: each goes
 * into the session's event buffer and out on the GET stream, when one is open.
 */
export async function pumpServerMessages(ctx: ProxyContext, session: ProxySession): Promise<void> {
  const upstream = session.upstream.name;
  for (;;) {
    const message = await session.connection.receive();
    if (message === undefined) break;
    ctx.metrics.relayedMessages.inc({ upstream, kind: 'server' });
    const event = session.events.push(
      message,
      ctx.store.eventTag(session, serverEventIdOf(message)),
    );
    const stream = session.serverStream;
    if (stream && !stream.closed) {
      stream.send(message, event.id);
      session.events.delivered(event);
      await stream.drained();
    }
  }
}
