import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientHttp2Stream } from 'node:http2';

/** A request that wants the HTTP/2 stream undici opens for it (a GuardedSend). */
export interface StreamWaiter {
  streamOpened(stream: ClientHttp2Stream): void;
}

/**
 * The request whose HTTP/2 stream undici is opening right now. undici calls `onRequestStart`
 * and then, in the same synchronous run, `session.request()`, which publishes the new stream on
 * `http2.client.stream.created`: the stream published then is that request's.
 */
let starting: StreamWaiter | undefined;
let watching = false;

function onStreamCreated(message: unknown): void {
  const waiter = starting;
  if (waiter === undefined) return;
  starting = undefined;
  waiter.streamOpened((message as { stream: ClientHttp2Stream }).stream);
}

/** Subscribes to `http2.client.stream.created` (once for the process). */
export function watchOpeningStreams(): void {
  if (watching) return;
  watching = true;
  diagnosticsChannel.subscribe('http2.client.stream.created', onStreamCreated);
}

/** From `onRequestStart`: the next stream created is `waiter`'s. */
export function expectStream(waiter: StreamWaiter): void {
  starting = waiter;
}

/** The request was sent (or no stream came, HTTP/1.1): it expects none any more. */
export function stopExpecting(waiter: StreamWaiter): void {
  if (starting === waiter) starting = undefined;
}
