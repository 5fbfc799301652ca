import { AbortedError, type McpConnectionError, TimeoutError } from '@mcp/connection-core';

/** How late a deadline may fire: the wheel turns once per this many milliseconds. */
export const WHEEL_TICK_MS = 100;
/** Slots in the wheel: one turn covers SLOTS x WHEEL_TICK_MS (25.6 s); later deadlines wait turns. */
const SLOTS = 256;

/**
 * The time limit and the caller's abort signal of one request, like connection-core's
 * `RequestDeadline` (same options, same TimeoutError and AbortedError, same progress and
 * `maxTotalTimeoutMs` rules) but with no timer of its own: it sits in the module's one timer
 * wheel, so a request costs a few fields instead of a Node timer. It fires after its time is
 * up, at most WHEEL_TICK_MS late, never early. `disposeDeadline()` must be called when the
 * request settles.
 *
 * A base class: the request itself (RequestExchange) is the wheel's entry, so a deadline adds
 * no object of its own to a request, and a closure only for a caller's signal. (Not an
 * EventListener object: node wraps one in an async closure per listener, which saves nothing
 * and would turn an exception into a rejection.)
 */
export abstract class CoarseDeadline {
  #signal: AbortSignal | undefined;
  #timeoutMs: number | undefined;
  #resetOnProgress = false;
  #maxTotalMs: number | undefined;
  #deadlineStartedAt = 0;
  /** The limit a TimeoutError reports: `timeoutMs`, or `maxTotalTimeoutMs` once that is nearer. */
  #reportedMs = 0;
  #deadlineDone = false;
  /** The listener of `#signal`, if there is one. */
  #onAbort: (() => void) | undefined;
  // The wheel's links: the slot this deadline sits in (-1: none), its neighbours there, and when
  // it is due (performance.now() ms).
  slot = -1;
  due = 0;
  prev: CoarseDeadline | undefined;
  next: CoarseDeadline | undefined;

  /** Called when the time is up or the signal fired (at most once). */
  abstract deadlineExpired(error: McpConnectionError): void;

  /** Starts the limit (none when `timeoutMs` is undefined) and watches `signal`. Once. */
  protected startDeadline(
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    resetOnProgress = false,
    maxTotalMs: number | undefined = undefined,
    now: number = performance.now(),
  ): void {
    // Settled before it started (failed in the queue's admission): nothing to watch.
    if (this.#deadlineDone) return;
    this.#signal = signal;
    this.#timeoutMs = timeoutMs;
    this.#resetOnProgress = resetOnProgress;
    this.#maxTotalMs = maxTotalMs;
    this.#deadlineStartedAt = now;
    if (signal?.aborted) {
      // Report on the next tick so the caller finishes setting up first.
      queueMicrotask(() => this.#signalAborted());
      return;
    }
    if (signal !== undefined) {
      const onAbort = (): void => this.#signalAborted();
      this.#onAbort = onAbort;
      signal.addEventListener('abort', onAbort, ONCE);
    }
    if (timeoutMs !== undefined) this.#arm(timeoutMs, timeoutMs, now);
  }

  /** Call on each progress notification for the request. */
  deadlineProgress(): void {
    const timeoutMs = this.#timeoutMs;
    if (this.#deadlineDone || !this.#resetOnProgress || timeoutMs === undefined) return;
    const maxTotalMs = this.#maxTotalMs;
    const now = performance.now();
    const left =
      maxTotalMs === undefined ? timeoutMs : maxTotalMs - (now - this.#deadlineStartedAt);
    if (left < timeoutMs) this.#arm(Math.max(0, left), maxTotalMs as number, now);
    else this.#arm(timeoutMs, timeoutMs, now);
  }

  disposeDeadline(): void {
    if (this.#deadlineDone) return;
    this.#deadlineDone = true;
    wheel.remove(this);
    const onAbort = this.#onAbort;
    if (onAbort !== undefined) {
      this.#onAbort = undefined;
      this.#signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Called by the wheel once the time is up. */
  timeUp(): void {
    this.#expire(new TimeoutError(this.#reportedMs));
  }

  #signalAborted(): void {
    this.#expire(new AbortedError({ cause: this.#signal?.reason }));
  }

  #arm(ms: number, reportedMs: number, now: number): void {
    this.#reportedMs = reportedMs;
    wheel.remove(this);
    wheel.add(this, now + ms);
  }

  #expire(error: McpConnectionError): void {
    if (this.#deadlineDone) return;
    this.disposeDeadline();
    this.deadlineExpired(error);
  }
}

/** `{ once: true }`, made once. */
const ONCE = { once: true } as const;

/**
 * A hashed timing wheel: SLOTS lists of deadlines, a deadline in the slot of the tick it falls
 * due in (modulo SLOTS; one further away waits whole turns there). One unref'd interval turns it
 * while it holds deadlines; it stops at the first tick that finds it empty.
 */
class DeadlineWheel {
  readonly #heads: Array<CoarseDeadline | undefined> = new Array<CoarseDeadline | undefined>(
    SLOTS,
  ).fill(undefined);
  #size = 0;
  /** The last tick whose slot has been run. */
  #ranTick = 0;
  #interval: NodeJS.Timeout | undefined;

  /** Deadlines waiting (for tests and stats). */
  get size(): number {
    return this.#size;
  }

  /** Whether the wheel's interval is running. */
  get turning(): boolean {
    return this.#interval !== undefined;
  }

  add(deadline: CoarseDeadline, due: number): void {
    if (this.#interval === undefined) {
      this.#ranTick = Math.floor(performance.now() / WHEEL_TICK_MS);
      this.#interval = setInterval(this.#turn, WHEEL_TICK_MS);
      this.#interval.unref();
    }
    // The first tick at or after `due`, and never one already run.
    const tick = Math.max(Math.ceil(due / WHEEL_TICK_MS), this.#ranTick + 1);
    const slot = tick % SLOTS;
    const head = this.#heads[slot];
    deadline.due = due;
    deadline.slot = slot;
    deadline.prev = undefined;
    deadline.next = head;
    if (head !== undefined) head.prev = deadline;
    this.#heads[slot] = deadline;
    this.#size++;
  }

  remove(deadline: CoarseDeadline): void {
    const slot = deadline.slot;
    if (slot === -1) return;
    const { prev, next } = deadline;
    if (prev === undefined) this.#heads[slot] = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    deadline.slot = -1;
    deadline.prev = undefined;
    deadline.next = undefined;
    this.#size--;
  }

  #turn = (): void => {
    if (this.#size === 0) {
      clearInterval(this.#interval);
      this.#interval = undefined;
      return;
    }
    const now = performance.now();
    const tick = Math.floor(now / WHEEL_TICK_MS);
    // A late turn runs every slot it missed (a whole turn at most: then every slot was seen).
    const from = Math.max(this.#ranTick + 1, tick - SLOTS + 1);
    this.#ranTick = tick;
    for (let t = from; t <= tick; t++) this.#runSlot(t % SLOTS, now);
  };

  #runSlot(slot: number, now: number): void {
    let deadline = this.#heads[slot];
    while (deadline !== undefined) {
      const next = deadline.next;
      // Later turns' deadlines stay; an expiry may dispose others, so `next` is read first and
      // re-checked: a disposed one has left the slot.
      if (deadline.due <= now) {
        this.remove(deadline);
        deadline.timeUp();
      }
      deadline = next !== undefined && next.slot === slot ? next : this.#firstDueIn(slot, now);
    }
  }

  /** After an expiry changed the slot: the first deadline still in it that is due. */
  #firstDueIn(slot: number, now: number): CoarseDeadline | undefined {
    let deadline = this.#heads[slot];
    while (deadline !== undefined && deadline.due > now) deadline = deadline.next;
    return deadline;
  }
}

const wheel = new DeadlineWheel();

/** The module's wheel, for tests: how many deadlines wait and whether its interval runs. */
export function deadlineWheelState(): { size: number; turning: boolean } {
  return { size: wheel.size, turning: wheel.turning };
}
