import {
  type ConnectionMetrics,
  InvalidMessageError,
  type JsonRpcMessage,
  parseMessage,
} from '@mcp/connection-core';
import { parseSseStream } from '@mcp/sse';
import type { SseBody } from './http.ts';

/** Where a stream got to: what to resume from and how long the server asked us to wait. */
export interface StreamCursor {
  lastEventId: string | undefined;
  retryMs: number | undefined;
}

/**
 * Reads JSON-RPC messages from one SSE body, updating `cursor` as events arrive. `onMessage`
 * returns true to stop reading (the body is then destroyed). Events with empty data (priming
 * events) and events of another type than `message` only move the cursor.
 * An event that is not a JSON-RPC message goes to `onInvalid` (which may throw to stop);
 * by default it is skipped, as a tolerant reader does (the SDK server replays `{}` priming
 * events, for one). Resolves true when stopped by `onMessage`, false when the body ended;
 * rejects when it broke.
 */
export async function readSseMessages(
  body: SseBody,
  cursor: StreamCursor,
  metrics: ConnectionMetrics,
  onMessage: (message: JsonRpcMessage) => boolean | Promise<boolean>,
  onInvalid: (error: InvalidMessageError, data: string) => void = ignore,
): Promise<boolean> {
  for await (const event of parseSseStream(countBytes(body, metrics))) {
    if (event.id !== undefined) cursor.lastEventId = event.id;
    if (event.retry !== undefined) cursor.retryMs = event.retry;
    if (event.data.length === 0) continue;
    if (event.event !== undefined && event.event !== 'message') continue;
    let message: JsonRpcMessage;
    try {
      message = parseMessage(event.data);
    } catch (cause) {
      const err = cause as InvalidMessageError;
      const detail = err.message.replace(/^Invalid JSON-RPC message: /, '');
      onInvalid(
        new InvalidMessageError(err.issue ?? 'not-json', detail, { cause, eventId: event.id }),
        event.data,
      );
      continue;
    }
    const stop = onMessage(message);
    if (stop === true || (stop !== false && (await stop))) return true;
  }
  return false;
}

async function* countBytes(
  body: SseBody,
  metrics: ConnectionMetrics,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    for await (const chunk of body) {
      metrics.bytesReceived((chunk as Buffer).byteLength);
      yield chunk as Buffer;
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

function ignore(): void {}
