import {
  HttpStatusError,
  isMcpConnectionError,
  SessionExpiredError,
  TransportError,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';

/** Response headers as plain strings (repeated headers joined with ', '). */
export function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The error for a non-2xx response; reads (a bounded part of) the body for the message. */
export async function statusError(
  response: Dispatcher.ResponseData,
  sessionId: string | undefined,
): Promise<HttpStatusError | SessionExpiredError> {
  const body = await readExcerpt(response);
  const error = new HttpStatusError(response.statusCode, flattenHeaders(response.headers), body);
  // A legacy server answers 404 once it no longer knows the session in the endpoint URL.
  if (response.statusCode === 404 && sessionId !== undefined) {
    return new SessionExpiredError(sessionId, { cause: error });
  }
  return error;
}

async function readExcerpt(response: Dispatcher.ResponseData): Promise<string> {
  try {
    return await response.body.text();
  } catch {
    return '';
  }
}

/** Network failures become TransportError; our own errors pass through. */
export function asTransportError(err: unknown, what: string): unknown {
  if (isMcpConnectionError(err)) return err;
  return new TransportError(what, { cause: err });
}
