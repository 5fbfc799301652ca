import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { ConnectionClosedError, parseOptions } from '@mcp/connection-core';
import { z } from 'zod';
import type { SseEvent } from './decode.ts';
import { formatSseComment, formatSseEvent } from './encode.ts';

/** A keep-alive comment every 15 s: well under the idle timeouts of common proxies (60 s). */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 15_000;

export const SseWriterOptionsSchema = z.strictObject({
  /** Interval of the keep-alive comment, in ms; 0 turns it off. */
  keepAliveIntervalMs: z.number().int().nonnegative().default(DEFAULT_KEEP_ALIVE_INTERVAL_MS),
  /** Status of the response, when the writer sends the headers. */
  status: z.number().int().min(200).max(299).default(200),
  /** More response headers (e.g. `mcp-session-id`), sent with the SSE ones. */
  headers: z.record(z.string(), z.string()).default({}),
});

export type SseWriterOptions = z.input<typeof SseWriterOptionsSchema>;

/** What the writer uses of a response; both Node response classes have it. */
interface WritableResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  readonly req: { readonly httpVersionMajor: number };
  writeHead(status: number, headers: Record<string, string>): unknown;
  flushHeaders?(): void;
  write(chunk: string): boolean;
  end(): unknown;
  on(event: 'close' | 'drain' | 'error', listener: () => void): unknown;
  off(event: 'close' | 'drain' | 'error', listener: () => void): unknown;
}

/**
 * Writes Server-Sent Events to a Node HTTP/1.1 or HTTP/2 response. The headers go out at once
 * (so the client sees the stream open); `send` waits while the client reads slowly and rejects
 * with ConnectionClosedError once the response is closed; a keep-alive comment is written
 * on an interval while nothing else is. `signal` aborts when the client goes away.
 */
export class SseWriter {
  #res: WritableResponse;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #controller = new AbortController();
  #drain: Promise<void> | undefined;
  #wroteSinceTick = false;
  #onClose = (): void => this.#markClosed();

  constructor(response: ServerResponse | Http2ServerResponse, options: SseWriterOptions = {}) {
    const { keepAliveIntervalMs, status, headers } = parseOptions(
      SseWriterOptionsSchema,
      options,
      'SseWriter options',
    );
    const res = response as unknown as WritableResponse;
    this.#res = res;
    res.on('close', this.#onClose);
    // A write after the peer reset surfaces as 'error'; 'close' follows and closes the writer.
    res.on('error', this.#onClose);
    if (!res.headersSent) {
      const sseHeaders: Record<string, string> = {
        ...headers,
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      };
      if (res.req.httpVersionMajor === 1) sseHeaders.connection = 'keep-alive';
      res.writeHead(status, sseHeaders);
      res.flushHeaders?.();
    }
    if (res.destroyed || res.writableEnded) this.#markClosed();
    if (keepAliveIntervalMs > 0 && !this.#closed) {
      this.#timer = setInterval(() => this.#keepAlive(), keepAliveIntervalMs);
      this.#timer.unref();
    }
  }

  /** True once the response is closed, by `close()` or because the client went away. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Aborts when the writer closes (reason: ConnectionClosedError). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Writes one event. Resolves once the response can take more (waiting for `drain` when the
   * client reads slower than events come); rejects with ConnectionClosedError once closed, and
   * with InvalidSseFieldError for an event that cannot be written.
   */
  send(event: SseEvent): Promise<void> {
    return this.#write(formatSseEvent(event));
  }

  /** Writes a comment (ignored by readers). */
  comment(text: string): Promise<void> {
    return this.#write(formatSseComment(text));
  }

  /** Ends the response and stops the keep-alive timer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#markClosed();
    if (!this.#res.writableEnded) this.#res.end();
  }

  #write(text: string): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('SSE response is closed'));
    this.#wroteSinceTick = true;
    if (this.#res.write(text)) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.#res.off('drain', done);
        this.#controller.signal.removeEventListener('abort', done);
        this.#drain = undefined;
        if (this.#closed) reject(new ConnectionClosedError('SSE response is closed'));
        else resolve();
      };
      this.#res.on('drain', done);
      this.#controller.signal.addEventListener('abort', done);
    });
    return this.#drain;
  }

  #keepAlive(): void {
    // Only when idle, and never onto a response that is already backed up.
    if (this.#wroteSinceTick || this.#drain !== undefined) {
      this.#wroteSinceTick = false;
      return;
    }
    if (!this.#closed) this.#res.write(formatSseComment('keep-alive'));
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#res.off('close', this.#onClose);
    this.#controller.abort(new ConnectionClosedError('SSE response is closed'));
  }
}
