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

/** When bytes last moved on a stream (read, or a write taken by nghttp2): `performance.now()`. */
const kProgressAt = Symbol('progressAt');
/** The guard of the session a stream belongs to (a closed stream no longer has its session). */
const kGuard = Symbol('sessionGuard');

type GuardedStream = http2.ServerHttp2Stream & { [kProgressAt]?: number; [kGuard]?: SessionGuard };

/**
 * Node calls one symbol-keyed method of every HTTP/2 stream (`kUpdateTimer`, what refreshes
 * `stream.setTimeout`) on each read and on each completed write. Wrapped once, it stamps the
 * stream's last progress, so no stream needs a timer of its own. False when this Node has no
 * such method; streams then get `stream.setTimeout` (a timer each) instead.
 */
let progressStamped: boolean | undefined;
function stampProgress(stream: http2.ServerHttp2Stream): boolean {
  if (progressStamped !== undefined) return progressStamped;
  // ServerHttp2Stream.prototype -> Http2Stream.prototype, where Node defines the method.
  const proto = Object.getPrototypeOf(Object.getPrototypeOf(stream)) as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'kUpdateTimer');
  const original = key === undefined ? undefined : proto[key];
  progressStamped = key !== undefined && typeof original === 'function';
  if (!progressStamped) return false;
  proto[key as symbol] = function updateTimer(this: GuardedStream): unknown {
    this[kProgressAt] = performance.now();
    return (original as () => unknown).call(this);
  };
  return true;
}

/**
 * One downstream HTTP/2 session's streams, swept on one interval: a stream with no progress
 * (no byte read, no write completed) for `writeTimeoutMs` is reset at the next sweep, so
 * between 1 and 1.25 times `writeTimeoutMs` after its last progress. Stream resets by the client
 * are weighed here too (see `guardHttp2Session`).
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

  add(stream: GuardedStream): void {
    stream[kGuard] = this;
    // `on`, not `once`: 'close' comes once, and `once` wraps its listener in a closure.
    stream.on('close', streamClosed);
    if (!stampProgress(stream)) {
      stream.setTimeout(this.#timeoutMs, () => this.#stuck(stream));
      return;
    }
    stream[kProgressAt] = performance.now();
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
    const idleSince = performance.now() - this.#timeoutMs;
    for (const stream of this.#streams) {
      if ((stream[kProgressAt] ?? 0) <= idleSince) this.#stuck(stream);
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
