import { ConnectionClosedError } from './errors.ts';

/**
 * A bounded FIFO between a producer (a transport reading a stream) and a consumer
 * (`receive()` / async iteration). A full queue makes `put` wait, which stops the producer
 * from reading its stream: backpressure reaches the server instead of growing memory.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #takers: Array<(value: T | undefined) => void> = [];
  #putters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  #closed = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be >= 1');
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds an item; waits while the queue is full. Rejects with ConnectionClosedError once closed. */
  async put(item: T): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    const taker = this.#takers.shift();
    if (taker) {
      taker(item);
      return;
    }
    while (this.size >= this.capacity) {
      await new Promise<void>((resolve, reject) => this.#putters.push({ resolve, reject }));
      if (this.#closed) throw new ConnectionClosedError();
    }
    this.#items.push(item);
  }

  /** The next item; undefined once closed and empty. */
  take(): Promise<T | undefined> {
    if (this.size > 0) {
      const item = this.#items[this.#head] as T;
      this.#items[this.#head] = undefined as T;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      this.#putters.shift()?.resolve();
      return Promise.resolve(item);
    }
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /** Ends the queue: waiting takers get undefined once items run out; waiting putters reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const taker of this.#takers.splice(0)) taker(undefined);
    for (const putter of this.#putters.splice(0)) putter.reject(new ConnectionClosedError());
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.take();
      if (item === undefined) return;
      yield item;
    }
  }
}
