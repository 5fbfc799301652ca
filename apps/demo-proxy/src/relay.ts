import { performance } from 'node:perf_hooks';
import {
  AbortedError,
  isJsonRpcErrorResponse,
  isJsonRpcRequest,
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
import { clientGone, type ResponseSink } from './http-types.ts';
import type { Logger } from './logger.ts';
import { methodLabel, type RequestOutcome } from './metrics.ts';
import { originBusyRejection } from './origin-busy.ts';
import { sendEmpty, sendJson, sendJsonBytes, sendRejection } from './replies.ts';
import type { ProxySession } from './session-registry.ts';
import type { AcceptedFormats } from './validate.ts';

/** JSON-RPC error code the SDK uses for a request that timed out. */
export const REQUEST_TIMEOUT_CODE = -32001;
/** JSON-RPC error code of an exchange whose related messages passed its byte budget. */
export const BUFFER_EXCEEDED_CODE = -32010;

export interface RelayRequestOptions {
  ctx: ProxyContext;
  session: ProxySession;
  request: JsonRpcRequest;
  res: ResponseSink;
  formats: AcceptedFormats;
  /** Headers every answer carries (the session id), read as the answer's headers go out. */
  headers: () => Record<string, string>;
  /** Headers of this request's upstream HTTP requests only (its own credentials). */
  upstreamHeaders?: Record<string, string>;
  /** Sees the response before it goes out (`headersSent`: an SSE answer's headers went already). */
  onAnswer?: (response: JsonRpcResponse, headersSent: boolean) => void;
  log: Logger;
}

/**
 * Sends one request upstream and answers it downstream. Messages related to the request
 * (progress, logging, server-to-client requests) go out first, in order, on an SSE response
 * opened when the first of them arrives; a response with none before it goes out as JSON when
 * the client accepts JSON. A client that goes away aborts the upstream request.
 * Resolves with the outcome; answering a session-expired upstream is left to the caller.
 */
export async function relayRequest(options: RelayRequestOptions): Promise<RequestOutcome> {
  const { ctx, session, request, res, formats, headers, upstreamHeaders, onAnswer, log } = options;
  const upstream = session.upstream.name;
  const method = methodLabel(request.method);
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableEnded) controller.abort(new RelayAbort('client-gone'));
  };
  res.once('close', onClose);
  session.inFlight.set(request.id, controller);
  const stats = ctx.metrics.requestStats(upstream, method);
  stats.inFlight++;
  const startedAt = performance.now();

  let stream: EventStream | undefined;
  const budget = ctx.config.edge.maxExchangeBufferBytes;
  // Related messages wait for the client to take them: until it does, the upstream stream is
  // not read (backpressure). What waits is bounded by the exchange's byte budget.
  const onMessage = (message: JsonRpcMessage): Promise<void> | undefined => {
    ctx.metrics.relayedMessages.inc({ upstream, kind: 'related' });
    if (formats.sse) {
      stream ??= openEventStream(res, headers(), ctx.config.limits.keepAliveMs);
      stream.send(message);
      if (stream.backlogBytes > budget) {
        ctx.onEdgeLimit('exchange_buffer', { bytes: stream.backlogBytes, budget });
        controller.abort(new RelayAbort('buffer-exceeded'));
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

  let outcome: RequestOutcome;
  try {
    // A client that left before we got here sends nothing upstream.
    if (clientGone(res)) throw new AbortedError({ cause: new RelayAbort('client-gone') });
    const response = await session.connection.request(request, {
      signal: controller.signal,
      timeoutMs: ctx.config.limits.requestTimeoutMs,
      resetTimeoutOnProgress: true,
      maxTotalTimeoutMs: ctx.config.limits.maxTotalTimeoutMs,
      onMessage,
      headers: upstreamHeaders,
      // The response goes to the client unchanged (same id): relay its bytes.
      keepRawResponse: true,
    });
    outcome = isJsonRpcErrorResponse(response) ? 'jsonrpc_error' : 'ok';
    answer(response);
  } catch (err) {
    if (err instanceof AbortedError) {
      outcome = 'cancelled';
      const reason: unknown = controller.signal.reason;
      if (reason instanceof RelayAbort && reason.why === 'buffer-exceeded') {
        outcome = 'buffer_exceeded';
        // The client may never read it; the write timeout bounds that.
        stream?.send(jsonRpcError(request.id, BUFFER_EXCEEDED_CODE, 'Exchange buffer exceeded'));
        stream?.end();
      } else if (stream) stream.end();
      else if (reason instanceof RelayAbort && reason.why === 'session-closed') {
        sendRejection(res, { status: 404, message: 'Session not found' }, request.id);
      } else {
        // Cancelled by the client: no JSON-RPC response is due; end the exchange empty.
        sendEmpty(res, 204, headers());
      }
    } else if (err instanceof TimeoutError) {
      outcome = 'timeout';
      answer(jsonRpcError(request.id, REQUEST_TIMEOUT_CODE, 'Upstream request timed out'));
    } else if (err instanceof SessionExpiredError) {
      outcome = 'session_expired';
      if (stream) stream.end();
      else sendRejection(res, { status: 404, message: 'Session not found' }, request.id);
    } else {
      // A pool budget that ran out is 503 with Retry-After (and its own log line and metric).
      const busy = originBusyRejection(ctx, session, err, log);
      outcome = busy ? 'upstream_busy' : 'upstream_error';
      if (!busy) log.warn({ err, method: request.method }, 'upstream request failed');
      const rejection = busy ?? {
        status: 502,
        message: 'Bad Gateway: upstream request failed',
        rpcCode: -32603,
      };
      if (stream) {
        stream.send(jsonRpcError(request.id, -32603, rejection.message));
        stream.end();
      } else {
        sendRejection(res, rejection, request.id);
      }
    }
  } finally {
    res.off('close', onClose);
    session.inFlight.delete(request.id);
    stats.inFlight--;
  }
  stats.ended(outcome, (performance.now() - startedAt) / 1000);
  return outcome;

  function answer(response: JsonRpcResponse): void {
    onAnswer?.(response, stream !== undefined);
    if (stream) {
      stream.send(response);
      stream.end();
    } else if (formats.json) {
      const raw = rawJsonOf(response);
      if (raw) sendJsonBytes(res, 200, raw, headers());
      else sendJson(res, 200, response, headers());
    } else {
      const only = openEventStream(res, headers(), ctx.config.limits.keepAliveMs);
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
