import type { JsonRpcMessage } from '@mcp/connection-core';

export interface BufferedEvent {
  id: string;
  /** Its place in the buffer's sequence (1, 2, ...). */
  seq: number;
  message: JsonRpcMessage;
}

/**
 * The last `capacity` server-initiated events of one session, for `Last-Event-ID` resumption.
 * Event ids are `<prefix><sequence>`, followed by `.<tag>` when the event was pushed with one
 * (a sealed session's tag says where the upstream stream was, for another replica to resume
 * from). An id this buffer did not mint replays all kept events.
 */
export class EventBuffer {
  readonly capacity: number;
  readonly prefix: string;
  #events: BufferedEvent[] = [];
  #next = 1;
  /** Events up to this sequence number went out on a client's stream. */
  #delivered = 0;
  /** The tag of the newest event (or of the point this buffer started from). */
  #lastTag: string | undefined;

  constructor(capacity: number, prefix = '') {
    this.capacity = capacity;
    this.prefix = prefix;
  }

  push(message: JsonRpcMessage, tag?: string): BufferedEvent {
    const seq = this.#next++;
    if (tag !== undefined) this.#lastTag = tag;
    const event = { id: this.#idOf(seq), seq, message };
    this.#events.push(event);
    if (this.#events.length > this.capacity) this.#events.shift();
    return event;
  }

  /** Records where the upstream stream stood before the first event (see `lastId`). */
  startFrom(tag: string): void {
    if (this.#next === 1) this.#lastTag = tag;
  }

  /** Events after `lastEventId` (all kept events when it is unknown or older than the buffer). */
  after(lastEventId: string | undefined): BufferedEvent[] {
    if (lastEventId === undefined) return [];
    const last = this.sequenceOf(lastEventId);
    if (last === undefined) return [...this.#events];
    return this.#events.filter((e) => e.seq > last);
  }

  /** The sequence number of an id this buffer minted (undefined for any other string). */
  sequenceOf(eventId: string): number | undefined {
    if (!eventId.startsWith(this.prefix)) return undefined;
    const rest = eventId.slice(this.prefix.length);
    const dot = rest.indexOf('.');
    const seq = Number(dot === -1 ? rest : rest.slice(0, dot));
    return Number.isInteger(seq) && seq >= 0 ? seq : undefined;
  }

  /** Records that `event` (and every event before it) went out on a client's stream. */
  delivered(event: BufferedEvent): void {
    this.#delivered = Math.max(this.#delivered, event.seq);
  }

  /** Kept events that never went out on a client's stream (none was open when they came). */
  undelivered(): BufferedEvent[] {
    return this.#events.filter((e) => e.seq > this.#delivered);
  }

  /** The tag of the newest event (or of where the buffer started), if any. */
  get lastTag(): string | undefined {
    return this.#lastTag;
  }

  /** The id of the newest event pushed (sequence 0 before the first). */
  get lastId(): string {
    return this.#idOf(this.#next - 1);
  }

  get size(): number {
    return this.#events.length;
  }

  #idOf(seq: number): string {
    const tag = this.#lastTag;
    return tag === undefined ? `${this.prefix}${seq}` : `${this.prefix}${seq}.${tag}`;
  }
}
