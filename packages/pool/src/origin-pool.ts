import {
  type Connection,
  ConnectionClosedError,
  InvalidOptionsError,
  parseOptions,
  sumMetricsSnapshots,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import {
  type PoolConnectMessage,
  type PoolDisconnectMessage,
  type PoolSessionMessage,
  poolChannels,
} from './channels.ts';
import {
  createPooledHttp2Connection,
  type PooledHttp2ConnectionOptions,
} from './default-factory.ts';
import {
  type ConnectionFactory,
  defaultMaxSessionsPerOrigin,
  type OriginPoolOptions,
  originPoolOptionsSchema,
  type ParsedOriginPoolOptions,
} from './options.ts';
import { originOf, parseEndpoint } from './origin.ts';
import { OriginDispatcher, usesH2c } from './origin-dispatcher.ts';
import { OriginSessions, type SessionEntry } from './origin-sessions.ts';
import type { OriginPoolStats, OriginStats } from './stats.ts';

/** Options of `pool.connection()`: a session key, and the rest for the factory. */
export type PoolConnectionOptions<O extends object> = O & {
  /**
   * Tells sessions to the same URL apart (e.g. one per user). Calls with the same URL and key
   * share one connection. Default: none, so one shared session per URL.
   */
  key?: string;
};

/**
 * Connections to MCP servers grouped by origin (scheme, host, port). Every session to an
 * origin rides that origin's one undici Pool, so thousands of concurrent requests travel as
 * HTTP/2 streams over a few TCP connections.
 */
export class OriginPool<O extends object = PooledHttp2ConnectionOptions>
  implements AsyncDisposable
{
  readonly #options: ParsedOriginPoolOptions;
  readonly #maxSessionsPerOrigin: number;
  readonly #factory: ConnectionFactory<O>;
  readonly #origins = new Map<string, OriginSessions>();
  /** Closes of sessions let go of, still under way; awaited by `close()`. */
  readonly #backgroundCloses = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  /**
   * Without `factory`, connections are made by `createHttp2Connection` (then `O` must be
   * PooledHttp2ConnectionOptions, the default). Throws InvalidOptionsError naming a bad option.
   */
  constructor(options: OriginPoolOptions<O> = {}) {
    this.#options = parseOptions(originPoolOptionsSchema, options, 'OriginPool options');
    this.#maxSessionsPerOrigin =
      this.#options.maxSessionsPerOrigin ??
      defaultMaxSessionsPerOrigin(
        this.#options.maxConnectionsPerOrigin,
        this.#options.maxConcurrentStreams,
      );
    this.#factory =
      options.factory ?? (createPooledHttp2Connection as unknown as ConnectionFactory<O>);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * The shared dispatcher (an undici Pool speaking HTTP/2) of `url`'s origin. An origin whose
   * dispatcher was handed out here is kept until `close()`; others are forgotten once they have
   * no session and no TCP connection left.
   */
  dispatcher(url: string): Dispatcher {
    const sessions = this.#originSessions(originOf(url));
    sessions.pin();
    return sessions.dispatcher;
  }

  /**
   * The connection for `url` and `options.key`: the same object while it is open, a new one
   * (made by the factory on the origin's dispatcher) once it has closed, its session expired or
   * its making failed. The other options are used only when a connection is made.
   * Concurrent first calls share one making. Past `maxSessionsPerOrigin` the least recently
   * used idle session is closed; when all are busy this rejects with SessionLimitError.
   */
  async connection(url: string, options?: PoolConnectionOptions<O>): Promise<Connection> {
    const { key, ...connectionOptions } = options ?? ({} as PoolConnectionOptions<O>);
    if (key !== undefined && typeof key !== 'string') {
      throw new InvalidOptionsError('connection options', [
        { path: 'key', message: 'expected a string' },
      ]);
    }
    const { origin, href } = parseEndpoint(url);
    const sessions = this.#originSessions(origin);
    const sessionKey = key === undefined ? href : `${href}\u0000${key}`;

    const existing = sessions.take(sessionKey);
    if (existing !== undefined) {
      return existing.connection ?? (existing.pending as Promise<Connection>);
    }

    const evicted = sessions.makeRoom(this.#maxSessionsPerOrigin);
    if (evicted !== undefined)
      this.#evict(evicted.connection, { origin, url: evicted.url, key: evicted.key });

    const entry: SessionEntry = { url: href, key, connection: undefined, pending: undefined };
    const pending = this.#make(href, connectionOptions as O, sessions.dispatcher).then(
      (connection) => {
        entry.connection = connection;
        entry.pending = undefined;
        if (poolChannels.sessionOpen.hasSubscribers) {
          poolChannels.sessionOpen.publish({ origin, url: href, key } satisfies PoolSessionMessage);
        }
        return connection;
      },
      (err: unknown) => {
        sessions.remove(sessionKey, entry);
        throw err;
      },
    );
    entry.pending = pending;
    sessions.add(sessionKey, entry);
    return pending;
  }

  /** A snapshot of every origin: TCP connections, streams, queued requests, sessions, metrics. */
  stats(): OriginPoolStats {
    const origins: OriginStats[] = [];
    for (const sessions of this.#origins.values()) {
      const dispatcher = sessions.dispatcher;
      const { connected, free, running, pending, queued, waiting, rejected } = dispatcher.stats;
      origins.push({
        origin: sessions.origin,
        protocol: dispatcher.protocol,
        connected,
        free,
        running,
        pending,
        queued,
        waiting,
        rejected,
        sessions: sessions.size,
        metrics: sessions.metrics(),
      });
    }
    const total = {
      connected: 0,
      free: 0,
      running: 0,
      pending: 0,
      queued: 0,
      waiting: 0,
      rejected: 0,
      sessions: 0,
    };
    for (const o of origins) {
      for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += o[key];
    }
    return {
      origins,
      total: { ...total, metrics: sumMetricsSnapshots(origins.map((o) => o.metrics)) },
    };
  }

  /**
   * Closes every session (each connection's `close()`, which ends its server session), then
   * every dispatcher (after the requests on them finish). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #make(url: string, options: O, dispatcher: Dispatcher): Promise<Connection> {
    const connection = await this.#factory(url, { ...options, url, dispatcher });
    if (this.closed) {
      // The pool closed while this was being made: it must not outlive the pool.
      await connection.close();
      throw new ConnectionClosedError('OriginPool is closed');
    }
    return connection;
  }

  #originSessions(origin: string): OriginSessions {
    if (this.closed) throw new ConnectionClosedError('OriginPool is closed');
    let sessions = this.#origins.get(origin);
    if (sessions === undefined) {
      const dispatcher = new OriginDispatcher(
        origin,
        this.#options,
        usesH2c(this.#options.h2c, origin),
      );
      const created = new OriginSessions(origin, dispatcher, (dead) =>
        this.#closeInBackground(dead),
      );
      watchConnections(dispatcher, origin, () => this.#forgetIfUnused(created));
      this.#origins.set(origin, created);
      sessions = created;
    }
    return sessions;
  }

  #evict(connection: Connection, message: PoolSessionMessage): void {
    if (poolChannels.sessionEvict.hasSubscribers) poolChannels.sessionEvict.publish(message);
    this.#closeInBackground(connection);
  }

  /**
   * Forgets an origin nothing uses any more (checked when one of its TCP connections ends, so
   * no timer is needed): its dispatcher is closed, and a later call makes a new one. This keeps
   * a pool that meets many origins over time from growing without bound.
   */
  #forgetIfUnused(sessions: OriginSessions): void {
    if (this.closed || this.#origins.get(sessions.origin) !== sessions || !sessions.unused) return;
    this.#origins.delete(sessions.origin);
    // Closed after undici's own event handling is done, not inside it.
    this.#inBackground(Promise.resolve().then(() => sessions.dispatcher.close()));
  }

  /** Closes a connection the pool let go of (evicted, or its session expired). */
  #closeInBackground(connection: Connection): void {
    this.#inBackground(connection.close());
  }

  /** Tracks a close nobody waits for (`close()` does); its failure has no one to go to. */
  #inBackground(promise: Promise<void>): void {
    const closing = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#backgroundCloses.add(closing);
    void closing.finally(() => this.#backgroundCloses.delete(closing));
  }

  async #closeAll(): Promise<void> {
    const origins = [...this.#origins.values()];
    await Promise.allSettled(origins.flatMap((o) => o.pending()));
    await Promise.allSettled(origins.flatMap((o) => o.drain().map((c) => c.close())));
    await Promise.allSettled(this.#backgroundCloses);
    await Promise.allSettled(origins.map((o) => o.dispatcher.close()));
  }
}

/**
 * Publishes the TCP connection events of one origin. `onEnded` runs when one ends, before the
 * event is published, so subscribers see the pool as it is after the event.
 */
function watchConnections(
  dispatcher: Dispatcher & { stats: { connected: number } },
  origin: string,
  onEnded: () => void,
): void {
  dispatcher.on('connect', () => {
    if (poolChannels.connect.hasSubscribers) {
      poolChannels.connect.publish({
        origin,
        connected: dispatcher.stats.connected,
      } satisfies PoolConnectMessage);
    }
  });
  dispatcher.on('disconnect', (_origin, _targets, error) => {
    onEnded();
    if (poolChannels.disconnect.hasSubscribers) {
      poolChannels.disconnect.publish({
        origin,
        connected: dispatcher.stats.connected,
        error,
      } satisfies PoolDisconnectMessage);
    }
  });
  dispatcher.on('connectionError', (_origin, _targets, error) => {
    onEnded();
    if (poolChannels.connectionError.hasSubscribers) {
      poolChannels.connectionError.publish({
        origin,
        connected: dispatcher.stats.connected,
        error,
      } satisfies PoolDisconnectMessage);
    }
  });
}
