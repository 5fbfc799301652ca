import type { Readable } from 'node:stream';
import {
  AbortedError,
  isMcpConnectionError,
  SseBufferOverflowError,
  TransportError,
} from '@mcp/connection-core';
import { createParser, type ParseError } from 'eventsource-parser';

/** One Server-Sent Event as it came off the wire. */
export interface SseEvent {
  /** The `id` field of the event's block, when it had one (an empty id resets the last id). */
  id?: string;
  /** The `event` field; undefined means the default type, `message`. */
  event?: string;
  /** The `data` lines joined with `\n`; '' for a block with no data (e.g. a priming event). */
  data: string;
  /** The latest `retry` field (ms) seen since the previous event. */
  retry?: number;
}

/** Anything a response body can be: a web stream, a Node stream, or any async byte iterable. */
export type SseSource =
  | ReadableStream<Uint8Array>
  | Readable
  | AsyncIterable<Uint8Array>
  | AsyncIterable<Uint8Array | string>;

export interface ParseSseStreamOptions {
  /** Stops reading: the source is cancelled and the generator throws AbortedError. */
  signal?: AbortSignal | undefined;
  /**
   * The most characters buffered for one unfinished line or event. A peer that exceeds it is
   * cut off with SseBufferOverflowError. Default DEFAULT_MAX_SSE_BUFFER_SIZE.
   */
  maxBufferSize?: number | undefined;
}

/** 16 Mi characters: far beyond any sane single MCP message, small enough to stop a runaway. */
export const DEFAULT_MAX_SSE_BUFFER_SIZE = 16 * 1024 * 1024;

/**
 * Decodes a byte stream of Server-Sent Events. Correct at any chunk boundary (inside a UTF-8
 * character, between CR and LF, inside a field name); accepts CR, LF and CRLF line ends and
 * one leading BOM; drops comments (keep-alives).
 *
 * Unlike a browser EventSource, a block with an `id` but no `data` (the MCP 2025-11-25
 * "priming" event) IS yielded, with data '', so the consumer can track the id.
 *
 * A failing source rejects with TransportError (cause kept); an abort with AbortedError.
 * Returning from the loop early cancels the source.
 */
export async function* parseSseStream(
  body: SseSource,
  options: ParseSseStreamOptions = {},
): AsyncGenerator<SseEvent, void, undefined> {
  const { signal } = options;
  const maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_SSE_BUFFER_SIZE;
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason });

  const ready: SseEvent[] = [];
  let pendingRetry: number | undefined;
  let pendingIdOnly: SseEvent | undefined;
  let overflow: ParseError | undefined;

  const take = (event: SseEvent): SseEvent => {
    if (pendingRetry !== undefined) {
      event.retry = pendingRetry;
      pendingRetry = undefined;
    }
    return event;
  };
  const parser = createParser({
    maxBufferSize,
    onRetry: (ms) => {
      pendingRetry = ms;
    },
    // onId runs at the end of a block with an id, before onEvent when the block has data.
    onId: (id) => {
      pendingIdOnly = take({ id, data: '' });
      ready.push(pendingIdOnly);
    },
    onEvent: (message) => {
      const event: SseEvent = { data: message.data };
      if (message.id !== undefined) event.id = message.id;
      if (message.event !== undefined) event.event = message.event;
      const last = ready.at(-1);
      if (last !== undefined && last === pendingIdOnly && last.id === message.id) {
        if (last.retry !== undefined) event.retry = last.retry;
        ready[ready.length - 1] = event;
      } else {
        ready.push(take(event));
      }
      pendingIdOnly = undefined;
    },
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = error;
    },
  });
  const decoder = new TextDecoder('utf-8');
  const source = openSource(body);
  let finished = false;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array | string>;
      try {
        step = await (signal ? nextOrAbort(source, signal) : source.next());
      } catch (cause) {
        if (isMcpConnectionError(cause)) throw cause;
        // The stream broke: hand over a retry the server already sent before reporting it.
        if (pendingRetry !== undefined) yield take({ data: '' });
        throw new TransportError('SSE stream failed', { cause });
      }
      if (step.done) {
        finished = true;
        break;
      }
      const chunk = step.value;
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      if (overflow) throw new SseBufferOverflowError(maxBufferSize, { cause: overflow });
      while (ready.length > 0) yield ready.shift() as SseEvent;
      pendingIdOnly = undefined;
    }
    const rest = decoder.decode();
    if (rest) parser.feed(rest);
    // An unterminated last block is discarded, as EventSource does.
    while (ready.length > 0) yield ready.shift() as SseEvent;
    if (pendingRetry !== undefined) yield take({ data: '' });
  } finally {
    // Stopped early (break, abort, error): cancel the body so the connection is released.
    if (!finished) await source.cancel();
  }
}

/**
 * The next chunk, or AbortedError as soon as `signal` aborts. One listener per read, removed
 * when the read settles (racing one long-lived promise would pile up reactions on it).
 */
function nextOrAbort(
  source: ByteSource,
  signal: AbortSignal,
): Promise<IteratorResult<Uint8Array | string>> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError({ cause: signal.reason }));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    source.next().then(
      (step) => {
        signal.removeEventListener('abort', onAbort);
        resolve(step);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

interface ByteSource {
  next(): Promise<IteratorResult<Uint8Array | string>>;
  /** Releases the source, even while a `next()` is pending. Never rejects. */
  cancel(): Promise<void>;
}

function openSource(body: SseSource): ByteSource {
  if (body instanceof ReadableStream) {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
      cancel: () => reader.cancel().catch(() => {}),
    };
  }
  const iterator = (body as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  return {
    next: () => iterator.next(),
    cancel: async () => {
      if (isNodeReadable(body)) {
        body.destroy();
        return;
      }
      // An async generator queues return() behind a pending next(): do not wait for it.
      iterator.return?.()?.catch(() => {});
    },
  };
}

function isNodeReadable(body: SseSource): body is Readable {
  return typeof (body as Readable).destroy === 'function' && 'readableEnded' in body;
}
