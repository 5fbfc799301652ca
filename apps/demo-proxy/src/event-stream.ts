import type { JsonRpcMessage } from '@mcp/connection-core';
import { SseWriter } from '@mcp/sse';
import type { DownstreamResponse, ResponseSink } from './http-types.ts';

/** A downstream SSE response: events out (in order), keep-alive comments, ends once. */
export interface EventStream {
  readonly closed: boolean;
  /** Queues one event; a client that went away is not an error (the event is dropped). */
  send(message: JsonRpcMessage, eventId?: string): void;
  /**
   * A priming event: an id and empty data (MCP 2025-11-25), so a client that loses the stream
   * before any message can still resume from here with Last-Event-ID.
   */
  prime(eventId: string): void;
  /** Resolves once the downstream has taken what was sent (or is gone). */
  drained(): Promise<void>;
  end(): void;
}

/**
 * Starts an SSE response on `res` (status 200, with `headers`) through @mcp/sse's SseWriter,
 * which waits for `drain` when the client reads slowly and writes keep-alive comments.
 */
export function openEventStream(
  res: ResponseSink,
  headers: Record<string, string>,
  keepAliveMs: number,
): EventStream {
  const writer = new SseWriter(res as unknown as DownstreamResponse, {
    headers,
    keepAliveIntervalMs: keepAliveMs,
  });
  let last: Promise<void> = Promise.resolve();
  const ignoreClosed = (): void => {};
  return {
    get closed() {
      return writer.closed;
    },
    send(message, eventId) {
      if (writer.closed) return;
      const event = {
        event: 'message',
        data: JSON.stringify(message),
        ...(eventId === undefined ? {} : { id: eventId }),
      };
      last = writer.send(event).catch(ignoreClosed);
    },
    prime(eventId) {
      if (writer.closed) return;
      last = writer.send({ id: eventId, data: '' }).catch(ignoreClosed);
    },
    drained() {
      return last;
    },
    end() {
      writer.close();
    },
  };
}
