import {
  InvalidMessageError,
  isMcpConnectionError,
  type JsonRpcMessage,
  parseMessages,
} from '@mcp/connection-core';
import type { SseEvent } from './decode.ts';

/** One thing read from an MCP SSE stream: a message, or an event that held no valid message. */
export type SseMessageItem =
  | { kind: 'message'; message: JsonRpcMessage; eventId?: string }
  | { kind: 'invalid'; error: InvalidMessageError };

const DETAIL_PREFIX = 'Invalid JSON-RPC message: ';

/**
 * Reads JSON-RPC messages from SSE events: events of type `message` (or no type) are parsed;
 * other types are skipped. An event with empty data (a priming event) yields nothing but
 * moves `lastEventId`. A malformed event is yielded as `{ kind: 'invalid' }` carrying an
 * InvalidMessageError with its `eventId`, and reading goes on.
 *
 * An event holding a JSON array (a batch, from 2025-03-26 servers) yields each message in it.
 * Failures of the event source itself (TransportError, AbortedError) are thrown by the loop.
 */
export class SseMessageReader implements AsyncIterable<SseMessageItem> {
  #events: AsyncIterable<SseEvent>;
  #lastEventId: string | undefined;
  #retryMs: number | undefined;

  constructor(events: AsyncIterable<SseEvent>, options: { lastEventId?: string } = {}) {
    this.#events = events;
    this.#lastEventId = options.lastEventId;
  }

  /** The id of the latest event that carried one (to resume with `Last-Event-ID`). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** The latest `retry:` value the server sent, in ms. */
  get retryMs(): number | undefined {
    return this.#retryMs;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SseMessageItem> {
    for await (const event of this.#events) {
      if (event.retry !== undefined) this.#retryMs = event.retry;
      if (event.id !== undefined) this.#lastEventId = event.id;
      if (event.event !== undefined && event.event !== 'message') continue;
      if (event.data === '') continue;
      yield* readMessages(event);
    }
  }
}

/** The items one `message` event holds. Exported for transports that read events themselves. */
export function readMessages(event: SseEvent): SseMessageItem[] {
  let messages: JsonRpcMessage[];
  try {
    messages = parseMessages(event.data);
  } catch (err) {
    if (!(err instanceof InvalidMessageError) && !isMcpConnectionError(err)) throw err;
    return [{ kind: 'invalid', error: withEventId(err as InvalidMessageError, event.id) }];
  }
  return messages.map((message) =>
    event.id === undefined
      ? { kind: 'message', message }
      : { kind: 'message', message, eventId: event.id },
  );
}

function withEventId(err: InvalidMessageError, eventId: string | undefined): InvalidMessageError {
  if (eventId === undefined) return err;
  const detail = err.message.startsWith(DETAIL_PREFIX)
    ? err.message.slice(DETAIL_PREFIX.length)
    : err.message;
  return new InvalidMessageError(err.issue, detail, { cause: err.cause, eventId });
}
