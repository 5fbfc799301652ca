import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortedError,
  ConnectionClosedError,
  isMcpConnectionError,
  type McpConnectionError,
  parseOptions,
  ReconnectFailedError,
} from '@mcp/connection-core';
import { z } from 'zod';
import { parseSseStream, type SseEvent, type SseSource } from './decode.ts';

/** Waits between reconnections. Injectable so tests run on fake time. */
export interface ReconnectScheduler {
  /** Resolves after `ms`; rejects (with anything) when `signal` aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realScheduler: ReconnectScheduler = {
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

/** Opens (or reopens) the stream, sending `lastEventId` as `Last-Event-ID` when defined. */
export type OpenSseStream = (
  lastEventId: string | undefined,
  signal: AbortSignal,
) => Promise<SseSource>;

const isFunction = (v: unknown): boolean => typeof v === 'function';
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;

export const ResumableSseStreamOptionsSchema = z
  .strictObject({
    open: z.custom<OpenSseStream>(isFunction, 'expected a function'),
    initial: z.custom<SseSource>(isObject, 'expected a stream').optional(),
    lastEventId: z.string().optional(),
    initialDelayMs: z.number().int().nonnegative().default(1000),
    maxDelayMs: z.number().int().nonnegative().default(30_000),
    factor: z.number().min(1).default(2),
    jitter: z.number().min(0).max(1).default(0.2),
    maxAttempts: z.number().int().positive().default(5),
    signal: z.instanceof(AbortSignal).optional(),
    scheduler: z
      .custom<ReconnectScheduler>(
        (v) => isObject(v) && isFunction((v as ReconnectScheduler).sleep),
        'expected { sleep(ms, signal) }',
      )
      .default(realScheduler),
    /** Source of randomness for the jitter, in [0, 1). */
    random: z.custom<() => number>(isFunction, 'expected a function').default(() => Math.random),
    maxBufferSize: z.number().int().positive().optional(),
  })
  .refine((o) => o.maxDelayMs >= o.initialDelayMs, {
    message: 'maxDelayMs must be >= initialDelayMs',
    path: ['maxDelayMs'],
  });

export type ResumableSseStreamOptions = z.input<typeof ResumableSseStreamOptionsSchema>;
type Options = z.output<typeof ResumableSseStreamOptionsSchema>;

/** How many recent event ids are remembered to drop replays. */
const SEEN_IDS_LIMIT = 4096;

/**
 * An SSE stream that survives disconnections (MCP 2025-11-25 resumability). When the stream
 * ends or breaks, it reopens it through `open(lastEventId)` after the server's `retry` (or an
 * exponential backoff with jitter), and never yields the same event id twice.
 *
 * Iteration ends quietly on `close()` or when the consumer stops; throws AbortedError when
 * `signal` aborts, the error itself when `open` fails with a non-retryable McpConnectionError
 * (session expired, HTTP 405), and ReconnectFailedError (cause: the last failure) after
 * `maxAttempts` reconnections in a row brought no new event. Iterate it once.
 */
export class ResumableSseStream implements AsyncIterable<SseEvent> {
  #options: Options;
  #lastEventId: string | undefined;
  #retryMs: number | undefined;
  #attempts = 0;
  #iterated = false;
  #closed = false;
  #controller = new AbortController();
  #seen = new Set<string>();

  constructor(options: ResumableSseStreamOptions) {
    this.#options = parseOptions(
      ResumableSseStreamOptionsSchema,
      options,
      'ResumableSseStream options',
    );
    this.#lastEventId = this.#options.lastEventId;
    if (this.#lastEventId) this.#seen.add(this.#lastEventId);
  }

  /** The id of the latest event yielded: where the next reconnection resumes. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** The latest `retry` the server sent, in ms. */
  get retryMs(): number | undefined {
    return this.#retryMs;
  }

  /** Reconnections in a row without a new event. */
  get attempts(): number {
    return this.#attempts;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the stream: a pending wait, open or read is cancelled and iteration ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#controller.abort(new ConnectionClosedError('Resumable stream closed'));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<SseEvent, void, undefined> {
    if (this.#iterated) throw new ConnectionClosedError('A ResumableSseStream is iterated once');
    this.#iterated = true;
    const { signal: userSignal } = this.#options;
    const signal = userSignal
      ? AbortSignal.any([userSignal, this.#controller.signal])
      : this.#controller.signal;
    let source = this.#options.initial;
    let lastFailure: unknown;
    let opened = source !== undefined;
    try {
      for (;;) {
        if (source === undefined) {
          if (opened) {
            if (this.#attempts >= this.#options.maxAttempts) {
              throw new ReconnectFailedError(this.#attempts, { cause: lastFailure });
            }
            this.#attempts++;
            await this.#options.scheduler.sleep(this.#delayMs(), signal);
          }
          opened = true;
          try {
            source = await this.#options.open(this.#lastEventId, signal);
          } catch (err) {
            if (signal.aborted) throw err;
            if (isMcpConnectionError(err) && !(err as McpConnectionError).retryable) throw err;
            lastFailure = err;
            continue;
          }
        }
        try {
          for await (const event of parseSseStream(source, {
            signal,
            maxBufferSize: this.#options.maxBufferSize,
          })) {
            if (event.retry !== undefined) this.#retryMs = event.retry;
            if (event.id === '') {
              // An empty id resets the last id: the server has nothing to resume from.
              this.#lastEventId = undefined;
            } else if (event.id !== undefined) {
              if (this.#seen.has(event.id)) continue;
              this.#remember(event.id);
              this.#lastEventId = event.id;
              this.#attempts = 0;
            }
            yield event;
          }
          lastFailure = undefined;
        } catch (err) {
          if (signal.aborted) throw err;
          if (isMcpConnectionError(err) && !(err as McpConnectionError).retryable) throw err;
          lastFailure = err;
        }
        source = undefined;
      }
    } catch (err) {
      if (this.#closed) return;
      if (userSignal?.aborted) {
        if (err instanceof AbortedError) throw err;
        throw new AbortedError({ cause: userSignal.reason });
      }
      throw err;
    } finally {
      // The consumer stopped, or the stream failed for good: release whatever is pending.
      if (!this.#closed) {
        this.#closed = true;
        this.#controller.abort(new ConnectionClosedError('Resumable stream closed'));
      }
    }
  }

  #delayMs(): number {
    if (this.#retryMs !== undefined) return this.#retryMs;
    const { initialDelayMs, maxDelayMs, factor, jitter, random } = this.#options;
    const base = Math.min(maxDelayMs, initialDelayMs * factor ** (this.#attempts - 1));
    const spread = base * jitter * (2 * random() - 1);
    return Math.max(0, Math.min(maxDelayMs, Math.round(base + spread)));
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size > SEEN_IDS_LIMIT) {
      const oldest = this.#seen.values().next().value as string;
      this.#seen.delete(oldest);
    }
  }
}
