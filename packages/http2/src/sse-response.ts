import {
  type ConnectionMetrics,
  InvalidMessageError,
  type JsonRpcId,
  type JsonRpcMessage,
  ReconnectFailedError,
  TransportError,
} from '@mcp/connection-core';
import { backoffDelayMs } from './backoff.ts';
import { type AbortEmitter, destroyBody, type HttpTarget, type SseBody } from './http.ts';
import type { ReconnectionOptions } from './options.ts';
import { reopenResponseStream } from './resume.ts';
import type { SessionState } from './session.ts';
import { readSseMessages, type StreamCursor } from './sse-messages.ts';

/** What reading an SSE response needs from the connection. */
export interface SseResponseHost {
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly metrics: ConnectionMetrics;
  readonly options: { readonly reconnection: ReconnectionOptions };
}

/** The request an SSE response answers (its exchange, which is also the GET's abort signal). */
export interface SseResponseReader extends AbortEmitter {
  readonly id: JsonRpcId;
  readonly settled: boolean;
  /** The caller's own headers, for the GETs that resume the stream. */
  readonly ownHeaders: Readonly<Record<string, string>> | undefined;
  /** Routes one message; a promise when the caller's onMessage asked to be waited for. */
  handleMessage(message: JsonRpcMessage): Promise<void> | undefined;
  /** Waits `ms`, or less if the request settles first. */
  sleep(ms: number): Promise<void>;
}

/**
 * Reads an SSE response until the request settles, resuming a broken stream with GET +
 * Last-Event-ID (after the server's `retry`, or backoff) up to `reconnection.maxAttempts` times
 * in a row. Fails when the stream ends before the response and cannot be resumed.
 */
export async function readSseResponse(
  host: SseResponseHost,
  first: SseBody,
  reader: SseResponseReader,
): Promise<void> {
  const reconnection = host.options.reconnection;
  const cursor: StreamCursor = { lastEventId: undefined, retryMs: undefined };
  let body: SseBody | undefined = first;
  let attempts = 0;
  let cause: unknown;
  // While the caller's onMessage has a message pending, the body is not read: the server's
  // stream waits (HTTP/2 flow control), so nothing piles up here.
  const onMessage = (message: JsonRpcMessage): boolean | Promise<boolean> => {
    attempts = 0;
    const pending = reader.handleMessage(message);
    if (pending === undefined) return reader.settled;
    return pending.then(() => reader.settled);
  };
  // Skip what is not a message, unless it claims to be our response: then fail, not hang.
  const onInvalid = (error: InvalidMessageError, data: string): void => {
    if (claimsId(data, reader.id)) throw error;
  };
  for (;;) {
    if (body !== undefined) {
      try {
        if (await readSseMessages(body, cursor, host.metrics, onMessage, onInvalid)) return;
        cause = undefined;
      } catch (error) {
        if (reader.settled || error instanceof InvalidMessageError) throw error;
        cause = error;
      }
    }
    if (reader.settled) return;
    if (cursor.lastEventId === undefined) {
      throw new TransportError('The response stream ended before the response', { cause });
    }
    if (attempts >= reconnection.maxAttempts) throw new ReconnectFailedError(attempts, { cause });
    attempts++;
    await reader.sleep(cursor.retryMs ?? backoffDelayMs(reconnection, attempts));
    if (reader.settled) return;
    body = await reopenResponseStream(host, cursor.lastEventId, reader, reader.ownHeaders);
    if (reader.settled) {
      if (body !== undefined) destroyBody(body);
      return;
    }
  }
}

function claimsId(data: string, id: JsonRpcId): boolean {
  try {
    const value = JSON.parse(data) as { id?: unknown } | null;
    return typeof value === 'object' && value !== null && value.id === id;
  } catch {
    return false;
  }
}
