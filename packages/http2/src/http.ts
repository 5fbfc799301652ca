import {
  BODY_EXCERPT_LIMIT,
  type ConnectionMetrics,
  HttpStatusError,
  isMcpConnectionError,
  ResponseTooLargeError,
  TransportError,
  UnexpectedContentTypeError,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import { sendGuarded } from './guarded-send.ts';
import type { HeaderRecord } from './session.ts';

export type ResponseData = Dispatcher.ResponseData;
export type ResponseBody = ResponseData['body'];

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
 * Sends one HTTP request. undici's own header and body timers are off (0): the request's
 * deadline covers both, and an idle SSE stream must not be cut by `bodyTimeout`. A request
 * with a body and a signal goes through GuardedSend, so that aborting it never resets a stream
 * whose body may still be going out.
 */
export async function sendHttp(
  target: HttpTarget,
  method: 'POST' | 'GET' | 'DELETE',
  headers: HeaderRecord,
  body: string | null,
  signal: AbortEmitter | AbortSignal | undefined,
): Promise<ResponseData> {
  const options = {
    origin: target.origin,
    path: target.path,
    method,
    headers,
    body,
    headersTimeout: 0,
    bodyTimeout: 0,
  };
  try {
    if (body !== null && signal !== undefined) {
      return await sendGuarded(target.dispatcher, signal, options, body);
    }
    return await target.dispatcher.request({ ...options, signal: signal as AbortSignal });
  } catch (cause) {
    throw toTransportError(cause, `${method} ${target.path} failed`);
  }
}

export function toTransportError(cause: unknown, message: string): Error {
  if (isMcpConnectionError(cause)) return cause;
  return new TransportError(message, { cause });
}

export type ContentKind = 'json' | 'sse' | 'other';

/** Classifies a Content-Type header without allocating in the common (lower-case) case. */
export function contentKind(contentType: string | string[] | undefined): ContentKind {
  if (typeof contentType !== 'string') return 'other';
  if (contentType.startsWith('application/json')) return 'json';
  if (contentType.startsWith('text/event-stream')) return 'sse';
  const lower = contentType.trimStart().toLowerCase();
  if (lower.startsWith('application/json')) return 'json';
  if (lower.startsWith('text/event-stream')) return 'sse';
  return 'other';
}

export function headerValue(headers: ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a whole body of at most `limit` bytes, counting its bytes. */
export async function readBody(
  response: ResponseData,
  metrics: ConnectionMetrics,
  limit: number,
): Promise<Uint8Array> {
  const { body } = response;
  const declared = Number(headerValue(response.headers, 'content-length'));
  if (declared > limit) {
    destroyBody(body);
    throw new ResponseTooLargeError(limit);
  }
  try {
    if (declared >= 0) {
      const bytes = await body.bytes();
      metrics.bytesReceived(bytes.byteLength);
      return bytes;
    }
    // No length given: count while reading, and stop at the limit.
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      length += buffer.byteLength;
      metrics.bytesReceived(buffer.byteLength);
      if (length > limit) {
        destroyBody(body);
        throw new ResponseTooLargeError(limit);
      }
      chunks.push(buffer);
    }
    return Buffer.concat(chunks, length);
  } catch (cause) {
    if (cause instanceof ResponseTooLargeError) throw cause;
    throw toTransportError(cause, 'Reading the response body failed');
  }
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
export function destroyBody(body: ResponseBody): void {
  body.on('error', noop);
  if (!body.destroyed) body.destroy();
}

export async function statusError(
  response: ResponseData,
  metrics: ConnectionMetrics,
): Promise<HttpStatusError> {
  const excerpt = await readExcerpt(response.body, metrics);
  return new HttpStatusError(response.statusCode, flatHeaders(response.headers), excerpt);
}

export function contentTypeError(response: ResponseData, expected: string): Error {
  response.body.on('error', noop);
  response.body.destroy();
  return new UnexpectedContentTypeError(headerValue(response.headers, 'content-type'), expected);
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
