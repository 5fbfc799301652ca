/** Unread bytes a streamed body holds at most before it pauses undici. */
export const BODY_HIGH_WATER_MARK = 64 * 1024;

/** The part of undici's per-request controller a streamed body uses. */
export interface BodyController {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A response body that arrives while it is read (an SSE answer): the dispatch handler pushes
 * each chunk, the reader takes them with `for await`. The queue is bounded: once more than
 * BODY_HIGH_WATER_MARK bytes wait unread, undici is paused (over HTTP/2 the server then runs
 * out of flow-control window) and resumed when the reader has taken them all.
 *
 * Leaving a `for await` early, or `destroy()`, aborts the request unless it already ended.
 * A body is read once.
 */
export class StreamedBody implements AsyncIterableIterator<Buffer> {
  #controller: BodyController;
  #chunks: Buffer[] = [];
  #head = 0;
  #buffered = 0;
  #paused = false;
  #destroyed = false;
  #error: Error | undefined;
  #wake: ((result: IteratorResult<Buffer>) => void) | undefined;
  #fail: ((error: Error) => void) | undefined;

  constructor(controller: BodyController) {
    this.#controller = controller;
  }

  /** True once the body ended, broke or was destroyed: nothing more comes. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Unread bytes held now. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  // Fed by the dispatch handler.

  /** The controller of the latest attempt (undici may send the request again). */
  set controller(controller: BodyController) {
    this.#controller = controller;
  }

  push(chunk: Buffer): void {
    if (this.#destroyed) return;
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      this.#fail = undefined;
      wake({ done: false, value: chunk });
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    if (this.#buffered > BODY_HIGH_WATER_MARK && !this.#paused) {
      this.#paused = true;
      this.#controller.pause();
    }
  }

  end(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#settleWaiter();
  }

  /** The body broke: the reader gets `error` once it has read what came before it. */
  fail(error: Error): void {
    if (this.#destroyed) return;
    this.#error = error;
    this.#destroyed = true;
    this.#settleWaiter();
  }

  // Read by the consumer.

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.#head < this.#chunks.length) return Promise.resolve(this.#shift());
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#destroyed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    });
  }

  return(): Promise<IteratorResult<Buffer>> {
    this.destroy();
    return Promise.resolve(DONE);
  }

  /** Stops reading: drops what is held and aborts the request unless it already ended. */
  destroy(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#settleWaiter();
    this.#controller.abort(new Error('The response body was destroyed before its end'));
  }

  #shift(): IteratorResult<Buffer> {
    const chunk = this.#chunks[this.#head] as Buffer;
    this.#chunks[this.#head++] = undefined as unknown as Buffer;
    this.#buffered -= chunk.byteLength;
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
      if (this.#paused) {
        this.#paused = false;
        if (!this.#destroyed) this.#controller.resume();
      }
    }
    return { done: false, value: chunk };
  }

  /** Nothing was queued while a reader waited: it gets the end or the error. */
  #settleWaiter(): void {
    const wake = this.#wake;
    const fail = this.#fail;
    if (wake === undefined || fail === undefined) return;
    this.#wake = undefined;
    this.#fail = undefined;
    if (this.#error !== undefined) fail(this.#error);
    else wake(DONE);
  }
}
