import {
  BODY_EXCERPT_LIMIT,
  type ConnectionMetrics,
  HttpStatusError,
  isMcpConnectionError,
  TransportError,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import type { StreamedBody } from './response-body.ts';
import type { HeaderRecord } from './session.ts';

export type ResponseData = Dispatcher.ResponseData;
/** The body of a GET or DELETE (undici's). */
export type ResponseBody = ResponseData['body'];
/** An SSE body: a POST's answer (read by our handler) or a GET's (undici's). */
export type SseBody = ResponseBody | StreamedBody;

/** Where requests go: the dispatcher, the origin and the endpoint's path (with query). */
export interface HttpTarget {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly path: string;
}

/**
 * What undici accepts as `signal`: an EventEmitter-like object. An exchange implements it so
 * aborting its HTTP request needs no AbortController per request.
 */
export interface AbortEmitter {
  on(event: 'abort', listener: () => void): unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

/**
 * Sends one request without a body (GET, DELETE) with undici's `request()`. undici's own header
 * and body timers are off (0): the request's deadline covers both, and an idle SSE stream must
 * not be cut by `bodyTimeout`. POSTs go through `sendPost()` (guarded-send.ts).
 */
export async function sendHttp(
  target: HttpTarget,
  method: 'GET' | 'DELETE',
  headers: HeaderRecord,
  signal: AbortEmitter | AbortSignal | undefined,
): Promise<ResponseData> {
  try {
    return await target.dispatcher.request({
      origin: target.origin,
      path: target.path,
      method,
      headers,
      headersTimeout: 0,
      bodyTimeout: 0,
      signal: signal as AbortSignal,
    });
  } catch (cause) {
    throw toTransportError(cause, `${method} ${target.path} failed`);
  }
}

export function toTransportError(cause: unknown, message: string): Error {
  if (isMcpConnectionError(cause)) return cause;
  return new TransportError(message, { cause });
}

export function headerValue(headers: ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads what is needed for an error excerpt, then lets the rest of the body go. */
export async function readExcerpt(body: ResponseBody, metrics: ConnectionMetrics): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      metrics.bytesReceived(buffer.byteLength);
      chunks.push(buffer);
      length += buffer.byteLength;
      if (length >= BODY_EXCERPT_LIMIT * 4) break;
    }
  } catch {
    // A body that breaks while we read a complaint from it: keep what arrived.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Lets a finite body go that nothing reads (an error status): drains up to 64 KiB, so an
 * HTTP/1.1 connection stays reusable, and destroys anything longer.
 */
export function discardBody(body: ResponseBody): void {
  body.on('error', noop);
  body.dump({ limit: 64 * 1024 }).catch(noop);
}

/** Stops a body that may never end (an SSE stream): on HTTP/2 this resets its stream. */
export function destroyBody(body: SseBody): void {
  if ('on' in body) body.on('error', noop);
  if (!body.destroyed) body.destroy();
}

export async function statusError(
  response: ResponseData,
  metrics: ConnectionMetrics,
): Promise<HttpStatusError> {
  const excerpt = await readExcerpt(response.body, metrics);
  return new HttpStatusError(response.statusCode, flatHeaders(response.headers), excerpt);
}

/** The HttpStatusError of a POST's answer, its excerpt from the body gathered. */
export function answerStatusError(answer: {
  statusCode: number;
  headers: ResponseData['headers'];
  bytes: Buffer;
}): HttpStatusError {
  const { bytes } = answer;
  const excerpt = bytes.toString('utf8', 0, Math.min(bytes.byteLength, BODY_EXCERPT_LIMIT * 4));
  return new HttpStatusError(answer.statusCode, flatHeaders(answer.headers), excerpt);
}

function flatHeaders(headers: ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function noop(): void {}
