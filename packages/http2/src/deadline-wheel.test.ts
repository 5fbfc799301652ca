import { AbortedError, type McpConnectionError, TimeoutError } from '@mcp/connection-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoarseDeadline, deadlineWheelState, WHEEL_TICK_MS } from './deadline-wheel.ts';

/** Collects what deadlines report, by name. */
function owner(seen: Array<[string, McpConnectionError]>, name: string) {
  return { deadlineExpired: (error: McpConnectionError) => seen.push([name, error]) };
}

/** A deadline that tells `owner` (a request is its own deadline: RequestExchange). */
class TestDeadline extends CoarseDeadline {
  readonly #owner: { deadlineExpired(error: McpConnectionError): void };

  constructor(
    owner: { deadlineExpired(error: McpConnectionError): void },
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    resetOnProgress?: boolean,
    maxTotalMs?: number,
  ) {
    super();
    this.#owner = owner;
    this.startDeadline(signal, timeoutMs, resetOnProgress, maxTotalMs);
  }

  deadlineExpired(error: McpConnectionError): void {
    this.#owner.deadlineExpired(error);
  }
}

describe('CoarseDeadline (the timer wheel)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires with TimeoutError once its time is up, never before, at most a tick late', () => {
    const seen: Array<[string, McpConnectionError]> = [];
    new TestDeadline(owner(seen, 'a'), undefined, 1_000);
    vi.advanceTimersByTime(999);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(WHEEL_TICK_MS + 1);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[1]).toBeInstanceOf(TimeoutError);
    expect(seen[0]?.[1]).toMatchObject({ timeoutMs: 1_000 });
  });

  it('waits whole turns for a deadline further away than one turn of the wheel', () => {
    const seen: Array<[string, McpConnectionError]> = [];
    new TestDeadline(owner(seen, 'far'), undefined, 60_000);
    vi.advanceTimersByTime(59_999);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(WHEEL_TICK_MS + 1);
    expect(seen.map(([name]) => name)).toEqual(['far']);
  });

  it('stops turning once it holds no deadline, so no timer is left behind', () => {
    const seen: Array<[string, McpConnectionError]> = [];
    const d = new TestDeadline(owner(seen, 'a'), undefined, 5_000);
    expect(deadlineWheelState()).toEqual({ size: 1, turning: true });
    d.disposeDeadline();
    expect(deadlineWheelState().size).toBe(0);
    vi.advanceTimersByTime(WHEEL_TICK_MS);
    expect(deadlineWheelState()).toEqual({ size: 0, turning: false });
    vi.advanceTimersByTime(10_000);
    expect(seen).toEqual([]);
  });

  it('restarts the limit on progress, and stops at maxTotalTimeoutMs, reporting it', () => {
    const seen: Array<[string, McpConnectionError]> = [];
    const d = new TestDeadline(owner(seen, 'p'), undefined, 1_000, true, 2_500);
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(800);
      d.deadlineProgress();
    }
    // 3.2 s in, progress every 0.8 s: the total limit (2.5 s) ended it, not the 1 s one.
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[1]).toMatchObject({ timeoutMs: 2_500 });
  });

  it('ignores progress unless asked to reset on it', () => {
    const seen: Array<[string, McpConnectionError]> = [];
    const d = new TestDeadline(owner(seen, 'n'), undefined, 1_000);
    vi.advanceTimersByTime(800);
    d.deadlineProgress();
    vi.advanceTimersByTime(200 + WHEEL_TICK_MS);
    expect(seen).toHaveLength(1);
  });

  it("reports the caller's abort as AbortedError with the reason as cause, once", async () => {
    const seen: Array<[string, McpConnectionError]> = [];
    const controller = new AbortController();
    new TestDeadline(owner(seen, 'x'), controller.signal, 1_000);
    controller.abort(new Error('user left'));
    vi.advanceTimersByTime(2_000);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[1]).toBeInstanceOf(AbortedError);
    expect(seen[0]?.[1]?.cause).toMatchObject({ message: 'user left' });
    // An already aborted signal is reported on the next microtask.
    new TestDeadline(owner(seen, 'y'), AbortSignal.abort(), 1_000);
    expect(seen).toHaveLength(1);
    await Promise.resolve();
    expect(seen.map(([name]) => name)).toEqual(['x', 'y']);
    expect(deadlineWheelState().size).toBe(0);
  });

  it('runs every due deadline of a slot, even when one expiry disposes others', () => {
    const seen: Array<[string, McpConnectionError]> = [];
    const deadlines: TestDeadline[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `d${i}`;
      deadlines.push(
        new TestDeadline(
          {
            deadlineExpired: (error: McpConnectionError) => {
              seen.push([name, error]);
              // The first to expire settles the one after it too (as a closing connection does).
              if (i === 4) deadlines[3]?.disposeDeadline();
            },
          },
          undefined,
          500,
        ),
      );
    }
    const later = new TestDeadline(owner(seen, 'later'), undefined, 700);
    vi.advanceTimersByTime(500 + WHEEL_TICK_MS);
    expect(seen.map(([name]) => name).sort()).toEqual(['d0', 'd1', 'd2', 'd4']);
    expect(deadlineWheelState().size).toBe(1);
    later.disposeDeadline();
  });
});
