import {
  AbortedError,
  HttpStatusError,
  InvalidOptionsError,
  ReconnectFailedError,
  SessionExpiredError,
  TransportError,
} from '@mcp/connection-core';
import { describe, expect, it } from 'vitest';
import type { SseEvent, SseSource } from './decode.ts';
import { type ReconnectScheduler, ResumableSseStream } from './resumable.ts';

const utf8 = new TextEncoder();

/** Fake time: records each wait and returns at once (or throws when aborted). */
function fakeScheduler(): ReconnectScheduler & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    async sleep(ms, signal) {
      signal.throwIfAborted();
      waits.push(ms);
    },
  };
}

/** A body that yields `text`, then ends (or fails with `error`). */
async function* body(text: string, error?: Error): AsyncGenerator<Uint8Array> {
  yield utf8.encode(text);
  if (error) throw error;
}

async function take(stream: AsyncIterable<SseEvent>, n: number): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  if (n === 0) return out;
  for await (const event of stream) {
    out.push(event);
    if (out.length === n) break;
  }
  return out;
}

describe('ResumableSseStream (fake time)', () => {
  it('resumes from the last id after an end and a break, dropping replayed ids', async () => {
    const scheduler = fakeScheduler();
    const calls: Array<string | undefined> = [];
    const scripts: Array<() => SseSource> = [
      () => body('id: 2\ndata: b\n\nid: 3\ndata: c\n\n'),
      () => body('id: 3\ndata: c\n\nid: 4\ndata: d\n\ndata: partial', new Error('reset')),
      () => body('id: 5\ndata: e\n\n'),
    ];
    const stream = new ResumableSseStream({
      initial: body('id: 1\nretry: 250\ndata: a\n\n'),
      open: async (lastEventId) => {
        calls.push(lastEventId);
        const next = scripts.shift();
        if (!next) throw new Error('no more');
        return next();
      },
      scheduler,
    });
    const events = await take(stream, 5);
    expect(events.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(calls).toEqual(['1', '3', '4']);
    expect(scheduler.waits).toEqual([250, 250, 250]);
    expect(stream.lastEventId).toBe('5');
    expect(stream.retryMs).toBe(250);
    expect(stream.closed).toBe(true);
  });

  it('backs off exponentially with a cap, then gives up with ReconnectFailedError', async () => {
    const scheduler = fakeScheduler();
    let opens = 0;
    const failure = new TransportError('connect refused');
    const stream = new ResumableSseStream({
      open: async () => {
        opens++;
        if (opens === 1) return body('id: a\ndata: x\n\n');
        throw failure;
      },
      initialDelayMs: 100,
      maxDelayMs: 500,
      jitter: 0,
      maxAttempts: 5,
      scheduler,
    });
    const seen: SseEvent[] = [];
    const err = await (async () => {
      for await (const event of stream) seen.push(event);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ id: 'a', data: 'x' }]);
    expect(err).toBeInstanceOf(ReconnectFailedError);
    expect((err as ReconnectFailedError).attempts).toBe(5);
    expect((err as ReconnectFailedError).cause).toBe(failure);
    expect(scheduler.waits).toEqual([100, 200, 400, 500, 500]);
    expect(opens).toBe(6);
  });

  it('spreads waits by the jitter', async () => {
    const scheduler = fakeScheduler();
    const stream = new ResumableSseStream({
      open: async () => {
        throw new TransportError('down');
      },
      initial: body(''),
      initialDelayMs: 1000,
      jitter: 0.2,
      maxAttempts: 2,
      random: () => 0,
      scheduler,
    });
    await expect(take(stream, 1)).rejects.toBeInstanceOf(ReconnectFailedError);
    expect(scheduler.waits).toEqual([800, 1600]);
    const defaults = fakeScheduler();
    const withDefaults = new ResumableSseStream({
      open: async () => {
        throw new TransportError('down');
      },
      initial: body(''),
      maxAttempts: 1,
      scheduler: defaults,
    });
    await expect(take(withDefaults, 1)).rejects.toBeInstanceOf(ReconnectFailedError);
    expect(defaults.waits).toHaveLength(1);
    expect(defaults.waits[0]).toBeGreaterThanOrEqual(800);
    expect(defaults.waits[0]).toBeLessThanOrEqual(1200);
  });

  it('resets the attempt count when a new event arrives', async () => {
    const scheduler = fakeScheduler();
    let n = 0;
    const stream = new ResumableSseStream({
      open: async () => {
        n++;
        // Every other open fails; the others bring one new event and end.
        if (n % 2 === 0) throw new TransportError('flaky');
        return body(`id: ${n}\ndata: ${n}\n\n`);
      },
      maxAttempts: 2,
      jitter: 0,
      scheduler,
    });
    const events = await take(stream, 4);
    expect(events.map((e) => e.id)).toEqual(['1', '3', '5', '7']);
    expect(scheduler.waits).toEqual([1000, 2000, 1000, 2000, 1000, 2000]);
  });

  it('ends by throwing a non-retryable error from open', async () => {
    const expired = new SessionExpiredError('s1');
    const stream = new ResumableSseStream({
      initial: body('id: 1\ndata: a\n\n'),
      open: async () => {
        throw expired;
      },
      scheduler: fakeScheduler(),
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of stream) seen.push(e.data);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(err).toBe(expired);
    const notAllowed = new ResumableSseStream({
      open: async () => {
        throw new HttpStatusError(405, {}, '');
      },
      scheduler: fakeScheduler(),
    });
    await expect(take(notAllowed, 1)).rejects.toBeInstanceOf(HttpStatusError);
  });

  it('cancels a pending open when the consumer stops, and ends quietly on close()', async () => {
    let openSignal: AbortSignal | undefined;
    const stream = new ResumableSseStream({
      initial: body('id: 1\ndata: a\n\n'),
      open: (_id, signal) => {
        openSignal = signal;
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      },
      scheduler: fakeScheduler(),
    });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ id: '1', data: 'a' });
    const pending = iterator.next();
    await new Promise((resolve) => setImmediate(resolve));
    expect(openSignal?.aborted).toBe(false);
    stream.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(openSignal?.aborted).toBe(true);
  });

  it('throws AbortedError when the caller aborts', async () => {
    const controller = new AbortController();
    const never = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(utf8.encode('id: 1\ndata: a\n\n'));
      },
    });
    const stream = new ResumableSseStream({
      initial: never,
      open: async () => never,
      signal: controller.signal,
      scheduler: fakeScheduler(),
    });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const pending = iterator.next();
    controller.abort(new Error('user'));
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
  });

  it('validates its options', () => {
    expect(() => new ResumableSseStream({ open: async () => body(''), jitter: 2 })).toThrow(
      InvalidOptionsError,
    );
    expect(
      () =>
        new ResumableSseStream({
          open: async () => body(''),
          initialDelayMs: 10,
          maxDelayMs: 5,
        }),
    ).toThrow(/maxDelayMs/);
    expect(() => new ResumableSseStream({} as never)).toThrow(InvalidOptionsError);
  });
});
