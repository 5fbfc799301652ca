import { AbortedError, type McpConnectionError, TimeoutError } from './errors.ts';

export interface DeadlineOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  resetTimeoutOnProgress?: boolean | undefined;
  maxTotalTimeoutMs?: number | undefined;
}

/**
 * The time limit and the caller's abort signal of one request, as one timer and one listener.
 * `onExpire` is called at most once, with TimeoutError or AbortedError; `dispose()` must be
 * called when the request settles, so nothing is left behind.
 */
export class RequestDeadline {
  #timer: NodeJS.Timeout | undefined;
  #onExpire: (error: McpConnectionError) => void;
  #options: DeadlineOptions;
  #startedAt: number;
  #done = false;
  #onAbort = (): void => this.#expire(new AbortedError({ cause: this.#options.signal?.reason }));

  constructor(options: DeadlineOptions, onExpire: (error: McpConnectionError) => void) {
    this.#options = options;
    this.#onExpire = onExpire;
    this.#startedAt = performance.now();
    const { signal, timeoutMs } = options;
    if (signal?.aborted) {
      // Report on the next tick so the caller finishes setting up first.
      queueMicrotask(this.#onAbort);
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (timeoutMs !== undefined) this.#arm(timeoutMs);
  }

  /** Call on each progress notification for the request. */
  progress(): void {
    const { timeoutMs, resetTimeoutOnProgress, maxTotalTimeoutMs } = this.#options;
    if (this.#done || !resetTimeoutOnProgress || timeoutMs === undefined) return;
    this.#arm(timeoutMs);
    if (maxTotalTimeoutMs !== undefined) {
      const left = maxTotalTimeoutMs - (performance.now() - this.#startedAt);
      if (left < timeoutMs) this.#arm(Math.max(0, left), maxTotalTimeoutMs);
    }
  }

  dispose(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }

  #arm(ms: number, reportedMs = this.#options.timeoutMs ?? ms): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#expire(new TimeoutError(reportedMs)), ms);
  }

  #expire(error: McpConnectionError): void {
    if (this.#done) return;
    this.dispose();
    this.#onExpire(error);
  }
}
