import { performance } from 'node:perf_hooks';
import {
  AbortedError,
  isJsonRpcErrorResponse,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  jsonRpcError,
  type RequestOptions,
  TimeoutError,
} from '@mcp/connection-core';
import { RelayAbort } from '../abort-reasons.ts';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { type EventStream, openEventStream } from '../event-stream.ts';
import type { ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { methodLabel, type RequestOutcome } from '../metrics.ts';
import { sendEmpty, sendJson, sendRejection } from '../replies.ts';
import type { AcceptedFormats } from '../validate.ts';

/** One 2026-07-28 request to relay, and how (through which Connection, with what changes). */
export interface ModernExchange {
  upstream: UpstreamConfig;
  /** Sends the request upstream and resolves with its answer (`Connection.request`, or a bridge's). */
  send: (request: JsonRpcRequest, options: RequestOptions) => Promise<JsonRpcResponse>;
  request: JsonRpcRequest;
  formats: AcceptedFormats;
  res: ResponseSink;
  /** Headers of this request's upstream HTTP requests (its own credentials). */
  own: Record<string, string> | undefined;
  log: Logger;
  /** What the client receives in place of each upstream message (a bridge translates). */
  translate?: (message: JsonRpcMessage) => JsonRpcMessage | undefined;
}

/**
 * Relays one 2026-07-28 request and answers it on its own POST: related messages (progress,
 * logging, `subscriptions/listen` notifications) on an SSE response opened by the first of
 * them, else the answer as JSON when the client takes JSON. The client closing its stream
 * closes the upstream one (the era's cancellation). Nothing is kept once it is answered.
 */
export async function relayModern(ctx: ProxyContext, exchange: ModernExchange): Promise<void> {
  const { upstream, send, request, formats, res, own } = exchange;
  const translate = exchange.translate ?? ((m: JsonRpcMessage) => m);
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableEnded) controller.abort(new RelayAbort('client-gone'));
  };
  res.once('close', onClose);
  const stats = ctx.metrics.requestStats(upstream.name, methodLabel(request.method));
  const startedAt = performance.now();
  let stream: EventStream | undefined;
  const onMessage = (message: JsonRpcMessage): Promise<void> | undefined => {
    const out = translate(message);
    if (out === undefined || !formats.sse) return undefined;
    ctx.metrics.relayedMessages.inc({ upstream: upstream.name, kind: 'related' });
    stream ??= openEventStream(res, {}, ctx.config.limits.keepAliveMs);
    stream.send(out);
    return stream.drained();
  };
  const answer = (response: JsonRpcResponse): void => {
    if (stream === undefined && formats.json) {
      sendJson(res, statusOf(response), response);
      return;
    }
    stream ??= openEventStream(res, {}, ctx.config.limits.keepAliveMs);
    stream.send(response);
    stream.end();
  };
  // A listen stream lives until either side ends it: only the total limit bounds it.
  const { requestTimeoutMs, maxTotalTimeoutMs } = ctx.config.limits;
  const listening = request.method === 'subscriptions/listen';
  let outcome: RequestOutcome = 'ok';
  ctx.load.enter();
  try {
    const response = await send(request, {
      signal: controller.signal,
      timeoutMs: listening ? maxTotalTimeoutMs : requestTimeoutMs,
      resetTimeoutOnProgress: !listening,
      maxTotalTimeoutMs,
      onMessage,
      headers: own,
    });
    const out = translate(response) as JsonRpcResponse;
    if (isJsonRpcErrorResponse(out)) outcome = 'jsonrpc_error';
    answer(out);
  } catch (err) {
    outcome = failed(err, exchange, stream, answer);
  } finally {
    ctx.load.leave();
    res.off('close', onClose);
  }
  stats.ended(outcome, (performance.now() - startedAt) / 1000);
}

/**
 * The HTTP status the era gives an error the server answered before running anything (the
 * Connection resolves with the JSON-RPC error, not the status): 404 for an unknown method, 400
 * for a rejected request. Handlers' own errors stay in-band (200).
 */
const LADDER_STATUS: Readonly<Record<number, number>> = {
  [-32700]: 400,
  [-32600]: 400,
  [-32601]: 404,
  [-32020]: 400,
  [-32021]: 400,
  [-32022]: 400,
};

function statusOf(response: JsonRpcResponse): number {
  if (!isJsonRpcErrorResponse(response)) return 200;
  return LADDER_STATUS[response.error.code] ?? 200;
}

function failed(
  err: unknown,
  exchange: ModernExchange,
  stream: EventStream | undefined,
  answer: (response: JsonRpcResponse) => void,
): RequestOutcome {
  const { request, res, log } = exchange;
  if (err instanceof AbortedError) {
    if (stream) stream.end();
    else sendEmpty(res, 204);
    return 'cancelled';
  }
  if (err instanceof TimeoutError) {
    answer(jsonRpcError(request.id, -32001, 'Upstream request timed out'));
    return 'timeout';
  }
  log.warn({ err, method: request.method }, 'upstream request failed (2026-07-28)');
  const message = 'Bad Gateway: upstream request failed';
  if (stream) {
    stream.send(jsonRpcError(request.id, -32603, message));
    stream.end();
  } else sendRejection(res, { status: 502, message, rpcCode: -32603 }, request.id);
  return 'upstream_error';
}
