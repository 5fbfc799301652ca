import type { IncomingHttpHeaders } from 'node:http';
import type { ContentKind } from './content-kind.ts';
import type { StreamedBody } from './response-body.ts';

/** A POST's answer: its status and headers, and its body read whole or still arriving. */
export interface PostAnswer {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly kind: ContentKind;
  /** The whole body (empty when `body` streams it); its first bytes only when `truncated`. */
  readonly bytes: Buffer;
  /** More came than was kept (a body nobody parses, past DISCARD_LIMIT); the rest was dropped. */
  readonly truncated: boolean;
  /** A 2xx SSE answer, read as it arrives; undefined for every other answer. */
  readonly body: StreamedBody | undefined;
}

/** Where a send reports its answer (or its failure), once, from a microtask. */
export interface PostReceiver {
  postAnswered(answer: PostAnswer): void;
  postFailed(error: unknown): void;
}

/**
 * How a send learns of an abort: an AbortSignal it listens to, or 'caller' (the caller calls
 * `abort()` itself, so no listener is added).
 */
export type PostAbortSource = AbortSignal | 'caller' | undefined;

/**
 * Sends whose outcome is known, waiting for the one microtask that tells their receivers: a
 * receiver is never called from inside undici's handler calls (nor from `send()`), and a send
 * that settles costs no promise.
 */
let waiting: Array<{ tellReceiver(): void }> = [];

function tellReceivers(): void {
  const sends = waiting;
  waiting = [];
  for (let i = 0; i < sends.length; i++) sends[i]?.tellReceiver();
}

/** Calls `send.tellReceiver()` from a microtask, with every other send settled in this run. */
export function tellLater(send: { tellReceiver(): void }): void {
  if (waiting.length === 0) queueMicrotask(tellReceivers);
  waiting.push(send);
}
