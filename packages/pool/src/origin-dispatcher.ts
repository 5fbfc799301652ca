import { ConnectionClosedError, type OriginBusyError } from '@mcp/connection-core';
import { Dispatcher } from 'undici';
import { type OriginBusyMessage, poolChannels } from './channels.ts';
import { DispatchGate } from './dispatch-gate.ts';
import type { H2cSelector, ParsedOriginPoolOptions } from './options.ts';
import { createHttp1Pool, createHttp2Pool, type HttpProtocol } from './origin-pools.ts';

/** Whether `origin` (an http: or https: origin) is spoken to in cleartext HTTP/2. */
export function usesH2c(selector: H2cSelector, origin: string): boolean {
  if (!origin.startsWith('http:')) return false;
  if (typeof selector === 'boolean') return selector;
  if (typeof selector === 'function') return selector(origin);
  return selector.includes(origin);
}

/** A snapshot of an origin's dispatcher, summed over the undici pools it runs. */
export interface OriginDispatcherStats {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
  /** Requests waiting in the bounded queues for a socket or stream slot. */
  waiting: number;
  /** Requests failed with OriginBusyError since the dispatcher was made. */
  rejected: number;
}

/** An undici pool with the bounded wait in front of it. */
interface Lane {
  readonly pool: Dispatcher & { stats: Omit<OriginDispatcherStats, 'waiting' | 'rejected'> };
  readonly gate: DispatchGate;
}

const EVENTS = ['connect', 'disconnect', 'connectionError'] as const;

/**
 * The one dispatcher of an origin. It picks the budget by wire protocol:
 *
 * - HTTP/2 (h2c, or h2 by ALPN): one undici Pool of up to `maxConnectionsPerOrigin` TCP
 *   connections, each carrying as many streams as the server's SETTINGS_MAX_CONCURRENT_STREAMS
 *   allow, capped by `maxConcurrentStreams`; requests and server streams share them.
 * - HTTP/1.1: every exchange takes a whole socket, so two pools of their own: requests (POST,
 *   DELETE) get `maxHttp1SocketsPerOrigin` sockets, and server streams (GET, which may stay
 *   open for good) `maxHttp1StreamSocketsPerOrigin`, so neither ever waits behind the other.
 *
 * An https: origin is HTTP/2 until its first connection says otherwise by ALPN; then the
 * HTTP/1.1 pools take over (requests waiting move there), and the first pool closes once its
 * requests are done. When a budget is spent, a request waits in a bounded queue for at most
 * `queueTimeoutMs`, then fails with OriginBusyError (published on `mcp:pool:origin-busy`).
 */
export class OriginDispatcher extends Dispatcher {
  readonly origin: string;
  readonly #options: ParsedOriginPoolOptions;
  #protocol: HttpProtocol | undefined;
  /** HTTP/2, or an https: origin whose protocol is not known yet. */
  #h2: Lane | undefined;
  #h1: { requests: Lane; streams: Lane } | undefined;
  /** Every pool not closed yet (a replaced HTTP/2 pool finishing its requests, too). */
  readonly #lanes = new Set<Lane>();
  readonly #retiring = new Set<Promise<void>>();
  #rejected = 0;
  #closed = false;

  constructor(origin: string, options: ParsedOriginPoolOptions, h2c: boolean) {
    super();
    this.origin = origin;
    this.#options = options;
    if (h2c) this.#protocol = 'h2';
    else if (origin.startsWith('http:')) this.#protocol = 'h1';
    if (this.#protocol === 'h1') this.#h1 = this.#http1Lanes();
    else this.#h2 = this.#http2Lane(h2c);
  }

  /** The wire protocol: known at once for http: origins, after the first connection for https:. */
  get protocol(): HttpProtocol | undefined {
    return this.#protocol;
  }

  get stats(): OriginDispatcherStats {
    const sum: OriginDispatcherStats = {
      connected: 0,
      free: 0,
      pending: 0,
      queued: 0,
      running: 0,
      size: 0,
      waiting: 0,
      rejected: this.#rejected,
    };
    for (const { pool, gate } of this.#lanes) {
      const s = pool.stats;
      sum.connected += s.connected;
      sum.free += s.free;
      sum.pending += s.pending + gate.waiting;
      sum.queued += s.queued + gate.waiting;
      sum.running += s.running;
      sum.size += s.size + gate.waiting;
      sum.waiting += gate.waiting;
    }
    return sum;
  }

  override dispatch(
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    if (this.#closed) {
      handler.onResponseError?.(null as never, new ConnectionClosedError('Dispatcher is closed'));
      return true;
    }
    return this.#laneFor(opts.method).gate.dispatch(opts, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closing = this.#end((pool) => pool.close());
    if (callback === undefined) return closing;
    void closing.then(callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(
    errOrCallback?: Error | null | (() => void),
    callback?: () => void,
  ): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const done = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const destroying = this.#end((pool) => pool.destroy(err));
    if (done === undefined) return destroying;
    void destroying.then(done);
  }

  /** Fails what waits, then ends every pool the way given. */
  async #end(how: (pool: Dispatcher) => Promise<void>): Promise<void> {
    this.#closed = true;
    const error = new ConnectionClosedError('Dispatcher is closed');
    for (const lane of this.#lanes) lane.gate.failAll(error);
    await Promise.all([...[...this.#lanes].map((l) => how(l.pool)), ...this.#retiring]);
  }

  #laneFor(method: string): Lane {
    if (this.#h1 === undefined) return this.#h2 as Lane;
    // A GET is a server stream (or the resumption of one): it may never end.
    return method === 'GET' ? this.#h1.streams : this.#h1.requests;
  }

  #http2Lane(h2c: boolean): Lane {
    const options = this.#options;
    const pool = createHttp2Pool(this.origin, options, h2c, (protocol) =>
      queueMicrotask(() => this.#learned(protocol)),
    );
    return this.#lane(pool, 'maxConnectionsPerOrigin', options.maxConnectionsPerOrigin);
  }

  #http1Lanes(): { requests: Lane; streams: Lane } {
    const { maxHttp1SocketsPerOrigin: requests, maxHttp1StreamSocketsPerOrigin: streams } =
      this.#options;
    return {
      requests: this.#lane(
        createHttp1Pool(this.origin, this.#options, requests),
        'maxHttp1SocketsPerOrigin',
        requests,
      ),
      streams: this.#lane(
        createHttp1Pool(this.origin, this.#options, streams),
        'maxHttp1StreamSocketsPerOrigin',
        streams,
      ),
    };
  }

  #lane(pool: Lane['pool'], limitName: string, limit: number): Lane {
    // Told on as they come, for the pool's own watchers (`mcp:pool:connect`, ...).
    const emitter = pool as unknown as NodeJS.EventEmitter;
    const self = this as unknown as NodeJS.EventEmitter;
    for (const event of EVENTS) emitter.on(event, (...args) => self.emit(event, ...args));
    const gate = new DispatchGate(pool, {
      origin: this.origin,
      limitName,
      limit,
      maxQueued: this.#options.maxQueuedPerOrigin,
      queueTimeoutMs: this.#options.queueTimeoutMs,
      onReject: (error) => this.#onReject(error),
    });
    const lane = { pool, gate };
    this.#lanes.add(lane);
    return lane;
  }

  /** The first connection of an https: origin told its protocol by ALPN. */
  #learned(protocol: HttpProtocol): void {
    if (this.#protocol !== undefined || this.#closed) return;
    this.#protocol = protocol;
    if (protocol === 'h2') return;
    const probe = this.#h2 as Lane;
    this.#h2 = undefined;
    this.#h1 = this.#http1Lanes();
    for (const { opts, handler } of probe.gate.takeAll()) this.dispatch(opts, handler);
    // The first pool finishes what it carries (one request: ALPN let nothing else through).
    const retiring = probe.pool.close().then(
      () => undefined,
      () => undefined,
    );
    this.#retiring.add(retiring);
    void retiring.then(() => {
      this.#retiring.delete(retiring);
      this.#lanes.delete(probe);
    });
  }

  #onReject(error: OriginBusyError): void {
    this.#rejected++;
    if (poolChannels.originBusy.hasSubscribers) {
      poolChannels.originBusy.publish({
        origin: error.origin,
        reason: error.reason,
        limitName: error.limitName,
        limit: error.limit,
        waitedMs: error.waitedMs,
      } satisfies OriginBusyMessage);
    }
  }
}
