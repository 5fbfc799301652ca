import { QueueFullError } from '@mcp/connection-core';

/** Something that waits for a slot: told once when it has one. */
export interface SlotWaiter {
  grant(): void;
}

/**
 * At most `limit` requests in flight; beyond it, up to `maxQueued` wait in FIFO order and more
 * are refused with QueueFullError. A waiter that gives up is blanked out and skipped later.
 */
export class ConcurrencyLimiter {
  readonly limit: number;
  readonly maxQueued: number;
  #active = 0;
  #queue: Array<SlotWaiter | undefined> = [];
  #head = 0;
  #waiting = 0;

  constructor(limit: number, maxQueued: number) {
    this.limit = limit;
    this.maxQueued = maxQueued;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /** Takes a slot when one is free; returns false when the caller must `enqueue`. */
  tryAcquire(): boolean {
    if (this.#active < this.limit && this.#waiting === 0) {
      this.#active++;
      return true;
    }
    return false;
  }

  /** Queues a waiter; `grant()` is called when it holds a slot. Throws QueueFullError when full. */
  enqueue(waiter: SlotWaiter): void {
    if (this.#waiting >= this.maxQueued) throw new QueueFullError(this.maxQueued);
    this.#queue.push(waiter);
    this.#waiting++;
  }

  /** Takes a waiter out of the queue (it gave up before getting a slot). */
  remove(waiter: SlotWaiter): void {
    const i = this.#queue.indexOf(waiter, this.#head);
    if (i < 0) return;
    this.#queue[i] = undefined;
    this.#waiting--;
  }

  /** Gives a slot back; the next waiter, if any, gets it. */
  release(): void {
    while (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head];
      this.#queue[this.#head] = undefined;
      this.#head++;
      if (next !== undefined) {
        this.#waiting--;
        this.#compact();
        next.grant();
        return;
      }
    }
    this.#compact();
    this.#active--;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
