import { OriginBusyError, type OriginBusyReason } from '@mcp/connection-core';
import type { Dispatcher } from 'undici';

type Handler = Dispatcher.DispatchHandler;
type DispatchOptions = Dispatcher.DispatchOptions;

/** What a gate tells its owner when it fails a request for lack of room. */
export type RejectListener = (error: OriginBusyError) => void;

export interface DispatchGateOptions {
  origin: string;
  /** The option that sets the budget behind this gate, and its value (for the error). */
  limitName: string;
  limit: number;
  /** Requests waiting at most; past it a request fails at once. */
  maxQueued: number;
  /** How long (ms) a request may wait for room before it fails. */
  queueTimeoutMs: number;
  onReject: RejectListener;
}

interface Waiter {
  opts: DispatchOptions;
  handler: Handler;
  enqueuedAt: number;
  /** False once it left the queue: sent, failed or cancelled. */
  queued: boolean;
}

/**
 * undici hands a dispatcher this hook (keyed by a symbol it does not export) when the caller
 * passed a `signal`: call it with a function that takes the request out of our queue, and an
 * abort before the request starts calls that function.
 */
type QueuedAbortHook = (cancel: (reason: unknown) => void) => void;

function queuedAbortHook(opts: DispatchOptions): QueuedAbortHook | undefined {
  for (const key of Object.getOwnPropertySymbols(opts)) {
    if (key.description === 'queued abort') {
      const hook = (opts as unknown as Record<symbol, unknown>)[key];
      return typeof hook === 'function' ? (hook as QueuedAbortHook) : undefined;
    }
  }
  return undefined;
}

/**
 * A bounded wait in front of an undici dispatcher. Requests pass straight through while the
 * dispatcher has room; once it reports none (`dispatch()` returned false), later requests wait
 * here, in order, until it emits 'drain'. The queue is bounded in length (`maxQueued`: past it
 * a request fails at once) and in time (`queueTimeoutMs`), both with OriginBusyError, so a
 * request never waits unseen. Waiters share one timer, armed for the oldest of them.
 */
export class DispatchGate {
  readonly #target: Dispatcher;
  readonly #options: DispatchGateOptions;
  #queue: Waiter[] = [];
  #waiting = 0;
  #saturated = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(target: Dispatcher, options: DispatchGateOptions) {
    this.#target = target;
    this.#options = options;
    target.on('drain', () => this.#release());
  }

  /** Requests waiting for room now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Sends now when there is room, else waits. True when it was sent at once. */
  dispatch(opts: DispatchOptions, handler: Handler): boolean {
    if (!this.#saturated && this.#waiting === 0) {
      this.#send(opts, handler);
      return true;
    }
    if (this.#waiting >= this.#options.maxQueued) {
      this.#reject(handler, 'queue-full', 0);
      return false;
    }
    const waiter: Waiter = { opts, handler, enqueuedAt: Date.now(), queued: true };
    this.#queue.push(waiter);
    this.#waiting++;
    queuedAbortHook(opts)?.((reason) => this.#cancel(waiter, reason));
    if (this.#timer === undefined) this.#arm();
    return false;
  }

  /** Takes every waiting request out (to send elsewhere), in order. */
  takeAll(): Array<{ opts: DispatchOptions; handler: Handler }> {
    const taken = this.#queue.filter((w) => w.queued);
    for (const waiter of taken) waiter.queued = false;
    this.#clear();
    return taken;
  }

  /** Fails every waiting request with `error` (the dispatcher is closing). */
  failAll(error: Error): void {
    for (const { handler } of this.takeAll()) handler.onResponseError?.(null as never, error);
  }

  #send(opts: DispatchOptions, handler: Handler): void {
    if (!this.#target.dispatch(opts, handler)) this.#saturated = true;
  }

  /** The dispatcher has room again: send waiters until it is full. */
  #release(): void {
    this.#saturated = false;
    while (!this.#saturated && this.#waiting > 0) {
      const waiter = this.#shift();
      if (waiter !== undefined) this.#send(waiter.opts, waiter.handler);
    }
    if (this.#waiting === 0) this.#clear();
  }

  #shift(): Waiter | undefined {
    let waiter = this.#queue.shift();
    while (waiter !== undefined && !waiter.queued) waiter = this.#queue.shift();
    if (waiter !== undefined) {
      waiter.queued = false;
      this.#waiting--;
    }
    return waiter;
  }

  #cancel(waiter: Waiter, reason: unknown): void {
    if (!waiter.queued) return;
    waiter.queued = false;
    this.#waiting--;
    if (this.#waiting === 0) this.#clear();
    waiter.handler.onResponseError?.(null as never, reason as Error);
  }

  /** Fails the waiters whose time is up, then re-arms for the oldest one left. */
  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    const timeout = this.#options.queueTimeoutMs;
    while (this.#waiting > 0) {
      const head = this.#queue.find((w) => w.queued);
      if (head === undefined || now - head.enqueuedAt < timeout) break;
      this.#shift();
      this.#reject(head.handler, 'queue-timeout', now - head.enqueuedAt);
    }
    if (this.#waiting === 0) this.#clear();
    else this.#arm();
  }

  #arm(): void {
    const head = this.#queue.find((w) => w.queued);
    if (head === undefined) return;
    const delay = Math.max(0, head.enqueuedAt + this.#options.queueTimeoutMs - Date.now());
    this.#timer = setTimeout(() => this.#expire(), delay);
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#waiting = 0;
  }

  #reject(handler: Handler, reason: OriginBusyReason, waitedMs: number): void {
    const { origin, limitName, limit } = this.#options;
    const error = new OriginBusyError({ origin, reason, limitName, limit, waitedMs });
    this.#options.onReject(error);
    handler.onResponseError?.(null as never, error);
  }
}
