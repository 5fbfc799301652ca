import {
  InvalidMessageError,
  JsonRpcErrorCode,
  type JsonRpcMessage,
  type JsonRpcRequest,
  parseMessage,
} from '@mcp/connection-core';
import { BodyTooLargeError, readBody } from '../body.ts';
import type { ProxyContext } from '../context.ts';
import { type DownstreamRequest, header } from '../http-types.ts';
import type { ProxySession } from '../session-registry.ts';
import {
  type AcceptedFormats,
  acceptedFormats,
  checkAccept,
  checkContentType,
  type Rejection,
} from '../validate.ts';

/** What one step of the POST path yields: its value, or the rejection that ends the request. */
export type Step<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export function rejected(rejection: Rejection): { ok: false; rejection: Rejection } {
  return { ok: false, rejection };
}

export interface AdmittedMessage {
  message: JsonRpcMessage;
  formats: AcceptedFormats;
}

/**
 * Admission: the headers say JSON in and something the proxy can answer with out, and the body
 * is one valid JSON-RPC message within the size limit.
 */
export async function admitMessage(
  ctx: ProxyContext,
  req: DownstreamRequest,
): Promise<Step<AdmittedMessage>> {
  const formats = acceptedFormats(header(req.headers, 'accept'));
  const early =
    checkContentType(header(req.headers, 'content-type')) ?? checkAccept(formats, 'POST');
  if (early) return rejected(early);
  try {
    const message = parseMessage(await readBody(req, ctx.config.limits.maxBodyBytes));
    return { ok: true, value: { message, formats } };
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      return rejected({
        status: 413,
        message: `Payload Too Large: limit is ${err.limit} bytes`,
        headers: { connection: 'close' },
      });
    }
    if (err instanceof InvalidMessageError) {
      const parse = err.issue === 'not-json' || err.issue === 'not-utf8';
      return rejected({
        status: 400,
        message: parse ? 'Parse error: body is not valid JSON' : `Invalid Request: ${err.message}`,
        rpcCode: parse ? JsonRpcErrorCode.PARSE_ERROR : JsonRpcErrorCode.INVALID_REQUEST,
      });
    }
    throw err;
  }
}

/**
 * Admission of a request to relay: the proxy and the session have room for it, and its id is
 * not one already in flight.
 */
export function admitRequest(
  ctx: ProxyContext,
  session: ProxySession,
  request: JsonRpcRequest,
): Rejection | undefined {
  const { limits } = ctx.config;
  if (ctx.load.inFlight >= limits.maxConcurrentRequests || ctx.load.draining) {
    return {
      status: 503,
      message: 'Service Unavailable: too many requests in flight',
      headers: { 'retry-after': '1' },
    };
  }
  if (session.inFlight.size >= limits.maxConcurrentRequestsPerSession) {
    return {
      status: 429,
      message: 'Too Many Requests: session concurrency limit',
      headers: { 'retry-after': '1' },
    };
  }
  if (session.inFlight.has(request.id)) {
    return {
      status: 400,
      message: 'Bad Request: a request with this id is in flight',
      rpcCode: JsonRpcErrorCode.INVALID_REQUEST,
    };
  }
  return undefined;
}
