import type { JsonRpcMessage } from '@mcp/connection-core';

export interface BufferedEvent {
  id: string;
  message: JsonRpcMessage;
}

/**
 * The last `capacity` server-initiated events of one session, for `Last-Event-ID` resumption.
 * Event ids are `<sequence>` numbers of this buffer, so anything not a known id replays all.
 */
export class EventBuffer {
  readonly capacity: number;
  #events: BufferedEvent[] = [];
  #next = 1;
  /** Events up to this sequence number went out on a client's stream. */
  #delivered = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  push(message: JsonRpcMessage): BufferedEvent {
    const event = { id: String(this.#next++), message };
    this.#events.push(event);
    if (this.#events.length > this.capacity) this.#events.shift();
    return event;
  }

  /** Events after `lastEventId` (all kept events when it is unknown or older than the buffer). */
  after(lastEventId: string | undefined): BufferedEvent[] {
    if (lastEventId === undefined) return [];
    const last = Number(lastEventId);
    if (!Number.isInteger(last) || last < 0) return [...this.#events];
    return this.#events.filter((e) => Number(e.id) > last);
  }

  /** Records that `event` (and every event before it) went out on a client's stream. */
  delivered(event: BufferedEvent): void {
    this.#delivered = Math.max(this.#delivered, Number(event.id));
  }

  /** Kept events that never went out on a client's stream (none was open when they came). */
  undelivered(): BufferedEvent[] {
    return this.#events.filter((e) => Number(e.id) > this.#delivered);
  }

  /** The id of the newest event pushed ('0' before the first). */
  get lastId(): string {
    return String(this.#next - 1);
  }

  get size(): number {
    return this.#events.length;
  }
}
