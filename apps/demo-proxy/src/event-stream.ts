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
  /** Bytes of events sent since the client last took everything (0 once drained). */
  readonly backlogBytes: number;
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
  let backlog = 0;
  const ignoreClosed = (): void => {};
  /** Counts a write's bytes until the writer says the response can take more. */
  const write = (written: Promise<void>, bytes: number): void => {
    backlog += bytes;
    const settled: Promise<void> = written.then(() => {
      if (last === settled) backlog = 0;
    }, ignoreClosed);
    last = settled;
  };
  return {
    get closed() {
      return writer.closed;
    },
    get backlogBytes() {
      return backlog;
    },
    send(message, eventId) {
      if (writer.closed) return;
      const data = JSON.stringify(message);
      const event = { event: 'message', data, ...(eventId === undefined ? {} : { id: eventId }) };
      write(writer.send(event), data.length);
    },
    prime(eventId) {
      if (writer.closed) return;
      write(writer.send({ id: eventId, data: '' }), 0);
    },
    drained() {
      return last;
    },
    end() {
      writer.close();
    },
  };
}
