import http2 from 'node:http2';
import type net from 'node:net';
import type { EdgeConfig } from './edge-config.ts';

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_CANCEL } = http2.constants;

/** Which edge limit acted; the `limit` label of `mcp_proxy_edge_limits_total`. */
export type EdgeLimit =
  | 'connections'
  | 'connection_idle'
  | 'headers_timeout'
  | 'handshake_timeout'
  | 'body_timeout'
  | 'write_timeout'
  | 'stream_resets'
  | 'exchange_buffer';

export type EdgeEvent = (limit: EdgeLimit, detail?: Record<string, unknown>) => void;

/**
 * A token bucket without a timer: `burst` tokens, refilled at `perSecond`, computed from the
 * time of the last take. `take()` is false once the bucket is empty.
 */
export class TokenBucket {
  readonly #burst: number;
  readonly #perMs: number;
  #tokens: number;
  #at = performance.now();

  constructor(burst: number, perSecond: number) {
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Gives one token back (up to the burst). */
  give(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }
}

/**
 * The limits of one downstream HTTP/2 session: idle timeout (GOAWAY), a write timeout on each
 * stream, and a rate limit on the client's stream resets (HTTP/2 rapid reset, CVE-2023-44487):
 * past it the session ends with GOAWAY(ENHANCE_YOUR_CALM), as Node's nghttp2, nginx and Envoy
 * do for the same abuse. Like Envoy's premature-reset check, it weighs resets against streams
 * that completed, so legitimate cancellations do not add up.
 */
export function guardHttp2Session(
  session: http2.ServerHttp2Session,
  edge: EdgeConfig,
  onLimit: EdgeEvent,
): void {
  session.setTimeout(edge.connectionIdleTimeoutMs, () => {
    onLimit('connection_idle');
    session.close();
  });
  const resets = new TokenBucket(edge.streamResetBurst, edge.streamResetsPerSecond);
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    stream.setTimeout(edge.writeTimeoutMs, () => {
      onLimit('write_timeout');
      stream.close(NGHTTP2_CANCEL);
    });
    // 'aborted': the client reset the stream before our answer was complete. A stream that
    // ends normally gives a token back: a client that closes an SSE stream now and then among
    // its requests (a session ending) never runs out; one that resets most of what it opens does.
    let aborted = false;
    stream.once('close', () => {
      if (!aborted) resets.give();
    });
    stream.once('aborted', () => {
      aborted = true;
      if (resets.take() || session.destroyed) return;
      onLimit('stream_resets');
      // GOAWAY first (destroy's own code argument reaches the peer as NO_ERROR), then close.
      session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
      session.destroy();
    });
  });
}

/**
 * Closes a connection that has not sent a complete first request within `ms` (slowloris over
 * TLS, or a connection that never speaks); `started()` disarms it.
 */
export function firstRequestDeadline(
  socket: net.Socket | http2.ServerHttp2Session,
  ms: number,
  onLimit: EdgeEvent,
): { started(): void } {
  const timer = setTimeout(() => {
    onLimit('headers_timeout');
    socket.destroy();
  }, ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  return { started: () => clearTimeout(timer) };
}
