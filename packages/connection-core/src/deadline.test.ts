import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestDeadline } from './deadline.ts';
import { AbortedError, type McpConnectionError, TimeoutError } from './errors.ts';

describe('RequestDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires once with TimeoutError', () => {
    const seen: McpConnectionError[] = [];
    new RequestDeadline({ timeoutMs: 100 }, (e) => seen.push(e));
    vi.advanceTimersByTime(99);
    expect(seen).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(TimeoutError);
    vi.advanceTimersByTime(1000);
    expect(seen).toHaveLength(1);
  });

  it('reports an abort with the reason as cause', () => {
    const ac = new AbortController();
    const seen: McpConnectionError[] = [];
    new RequestDeadline({ signal: ac.signal, timeoutMs: 100 }, (e) => seen.push(e));
    ac.abort('user left');
    expect(seen[0]).toBeInstanceOf(AbortedError);
    expect(seen[0]?.cause).toBe('user left');
    vi.advanceTimersByTime(200);
    expect(seen).toHaveLength(1);
  });

  it('reports an already-aborted signal', async () => {
    const seen: McpConnectionError[] = [];
    new RequestDeadline({ signal: AbortSignal.abort() }, (e) => seen.push(e));
    await Promise.resolve();
    expect(seen[0]).toBeInstanceOf(AbortedError);
  });

  it('restarts on progress, up to the hard maximum', () => {
    const seen: McpConnectionError[] = [];
    const d = new RequestDeadline(
      { timeoutMs: 100, resetTimeoutOnProgress: true, maxTotalTimeoutMs: 250 },
      (e) => seen.push(e),
    );
    vi.advanceTimersByTime(90);
    d.progress();
    vi.advanceTimersByTime(90);
    d.progress();
    expect(seen).toHaveLength(0);
    vi.advanceTimersByTime(70);
    expect(seen).toHaveLength(1);
    expect((seen[0] as TimeoutError).timeoutMs).toBe(250);
  });

  it('leaves nothing behind after dispose', () => {
    const ac = new AbortController();
    const seen: McpConnectionError[] = [];
    const d = new RequestDeadline({ signal: ac.signal, timeoutMs: 100 }, (e) => seen.push(e));
    d.dispose();
    expect(vi.getTimerCount()).toBe(0);
    ac.abort();
    vi.advanceTimersByTime(200);
    expect(seen).toHaveLength(0);
  });
});
