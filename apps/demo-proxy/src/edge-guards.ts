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

/** When the stream last showed progress: `performance.now()`. */
const kProgressAt = Symbol('progressAt');
/** The stream's unsent bytes at the previous sweep. */
const kPendingAtSweep = Symbol('pendingAtSweep');
/** The guard of the session a stream belongs to (a closed stream no longer has its session). */
const kGuard = Symbol('sessionGuard');

type GuardedStream = http2.ServerHttp2Stream & {
  [kProgressAt]: number;
  [kPendingAtSweep]: number;
  [kGuard]?: SessionGuard;
};

/**
 * One downstream HTTP/2 session's streams, swept on one interval, with no timer per stream. A
 * stream is stuck when what we wrote to it does not go out: the client stopped reading (its
 * window stays shut, or the connection's TCP buffer stays full), as nginx's `send_timeout`
 * sees it. Progress, seen with public stream state only: nothing unsent at a sweep (a stream
 * waiting for its upstream answer is bounded by the request's own timeouts; Node itself closes
 * one whose answer ended), fewer unsent bytes than at the previous sweep, or a 'drain' (our
 * backpressure waits for those). A stream with no progress for `writeTimeoutMs` is reset at the
 * next sweep (every `writeTimeoutMs / 4`), so between 1 and 1.5 times `writeTimeoutMs` after
 * its last progress. Stream resets by the client are weighed here too (see
 * `guardHttp2Session`).
 */
class SessionGuard {
  readonly #session: http2.ServerHttp2Session;
  readonly #timeoutMs: number;
  readonly #onLimit: EdgeEvent;
  readonly #resets: TokenBucket;
  readonly #streams = new Set<GuardedStream>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(session: http2.ServerHttp2Session, edge: EdgeConfig, onLimit: EdgeEvent) {
    this.#session = session;
    this.#timeoutMs = edge.writeTimeoutMs;
    this.#onLimit = onLimit;
    this.#resets = new TokenBucket(edge.streamResetBurst, edge.streamResetsPerSecond);
  }

  add(serverStream: http2.ServerHttp2Stream): void {
    const stream = serverStream as GuardedStream;
    stream[kGuard] = this;
    // `on`, not `once`: 'close' comes once, and `once` wraps its listener in a closure.
    stream.on('close', streamClosed);
    stream.on('drain', drained);
    stream[kProgressAt] = performance.now();
    stream[kPendingAtSweep] = 0;
    this.#streams.add(stream);
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.#sweep(), this.#timeoutMs / 4);
      this.#sweeper.unref();
    }
  }

  /**
   * 'aborted': the client reset the stream before our answer was complete. A stream that ends
   * normally gives a token back: a client that closes an SSE stream now and then among its
   * requests (a session ending) never runs out; one that resets most of what it opens does.
   */
  closed(stream: GuardedStream): void {
    this.#streams.delete(stream);
    if (!stream.aborted) {
      this.#resets.give();
      return;
    }
    if (this.#resets.take() || this.#session.destroyed) return;
    this.#onLimit('stream_resets');
    // GOAWAY first (destroy's own code argument reaches the peer as NO_ERROR), then close.
    this.#session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    this.#session.destroy();
  }

  stop(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    const idleSince = now - this.#timeoutMs;
    for (const stream of this.#streams) {
      const pending = stream.writableLength;
      const progressed = pending === 0 || pending < stream[kPendingAtSweep];
      stream[kPendingAtSweep] = pending;
      if (progressed) stream[kProgressAt] = now;
      else if (stream[kProgressAt] <= idleSince) this.#stuck(stream);
    }
  }

  #stuck(stream: GuardedStream): void {
    this.#streams.delete(stream);
    this.#onLimit('write_timeout');
    stream.close(NGHTTP2_CANCEL);
  }
}

/** One listener for every stream's 'close' (no closure per stream). */
function streamClosed(this: GuardedStream): void {
  this[kGuard]?.closed(this);
}

/** One listener for every stream's 'drain': what was buffered went out. */
function drained(this: GuardedStream): void {
  this[kProgressAt] = performance.now();
}

/**
 * The limits of one downstream HTTP/2 session: idle timeout (GOAWAY), a write timeout on each
 * stream (no progress for `writeTimeoutMs`, found by one sweep per session), and a rate limit on
 * the client's stream resets (HTTP/2 rapid reset, CVE-2023-44487): past it the session ends with
 * GOAWAY(ENHANCE_YOUR_CALM), as Node's nghttp2, nginx and Envoy do for the same abuse. Like
 * Envoy's premature-reset check, it weighs resets against streams that completed, so legitimate
 * cancellations do not add up.
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
  const guard = new SessionGuard(session, edge, onLimit);
  session.on('stream', (stream: http2.ServerHttp2Stream) => guard.add(stream));
  session.once('close', () => guard.stop());
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
