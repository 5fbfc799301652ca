import {
  type Connection,
  ErrorCode,
  type MetricsSnapshot,
  SessionLimitError,
  sumMetricsSnapshots,
} from '@mcp/connection-core';
import type { OriginDispatcher } from './origin-dispatcher.ts';

/** One session slot: a connection being made (`pending`), then made (`connection`). */
export interface SessionEntry {
  readonly url: string;
  readonly key: string | undefined;
  connection: Connection | undefined;
  pending: Promise<Connection> | undefined;
}

/**
 * Whether a connection can no longer serve its session: closed, or its session expired (a
 * request failed with MCP_SESSION_EXPIRED and the connection did not re-initialize itself).
 */
function isDead(connection: Connection): boolean {
  return connection.closed || connection.metrics.failures(ErrorCode.SESSION_EXPIRED) > 0;
}

/**
 * The sessions of one origin and the dispatcher they all ride. The map's insertion order is
 * the order of last use (a hit moves its entry to the end), so the first idle entry is the
 * least recently used one.
 */
export class OriginSessions {
  readonly origin: string;
  readonly dispatcher: OriginDispatcher;
  readonly #entries = new Map<string, SessionEntry>();
  /** Set once the dispatcher was handed out: someone else may hold it, so it is never reaped. */
  #pinned = false;
  /** Metrics of connections no longer held, so totals never go backwards. */
  #retired: MetricsSnapshot | undefined;

  /** Told of each dead connection dropped that is not closed yet, to close it. */
  readonly #onDeadOpen: (connection: Connection) => void;

  constructor(
    origin: string,
    dispatcher: OriginDispatcher,
    onDeadOpen: (connection: Connection) => void,
  ) {
    this.origin = origin;
    this.dispatcher = dispatcher;
    this.#onDeadOpen = onDeadOpen;
  }

  pin(): void {
    this.#pinned = true;
  }

  /**
   * Whether nothing uses this origin any more: no session, no TCP connection, no request, and
   * the dispatcher was never handed out. Then it can be closed and forgotten.
   */
  get unused(): boolean {
    if (this.#pinned || this.size !== 0) return false;
    const { connected, size } = this.dispatcher.stats;
    return connected === 0 && size === 0;
  }

  /** Open and pending sessions, after dropping closed ones. */
  get size(): number {
    this.prune();
    return this.#entries.size;
  }

  /** The live entry for `sessionKey`, marked as just used; a dead one is dropped. */
  take(sessionKey: string): SessionEntry | undefined {
    const entry = this.#entries.get(sessionKey);
    if (entry === undefined) return undefined;
    this.#entries.delete(sessionKey);
    if (entry.connection !== undefined && isDead(entry.connection)) {
      this.#drop(entry.connection);
      return undefined;
    }
    this.#entries.set(sessionKey, entry);
    return entry;
  }

  add(sessionKey: string, entry: SessionEntry): void {
    this.#entries.set(sessionKey, entry);
  }

  /** Removes `entry` if it still holds `sessionKey` (a failed creation). */
  remove(sessionKey: string, entry: SessionEntry): void {
    if (this.#entries.get(sessionKey) === entry) this.#entries.delete(sessionKey);
  }

  /**
   * Makes room for one more session under `limit`: returns the least recently used idle
   * session, removed, for the caller to close; undefined when there was room already.
   * Throws SessionLimitError when every session has requests in flight or is being made.
   */
  makeRoom(limit: number): (SessionEntry & { connection: Connection }) | undefined {
    this.prune();
    if (this.#entries.size < limit) return undefined;
    for (const [sessionKey, entry] of this.#entries) {
      const connection = entry.connection;
      if (connection !== undefined && connection.metrics.inFlight === 0) {
        this.#entries.delete(sessionKey);
        this.#retire(connection);
        return { ...entry, connection };
      }
    }
    throw new SessionLimitError(this.origin, limit);
  }

  /** Drops dead connections. */
  prune(): void {
    for (const [sessionKey, entry] of this.#entries) {
      if (entry.connection !== undefined && isDead(entry.connection)) {
        this.#entries.delete(sessionKey);
        this.#drop(entry.connection);
      }
    }
  }

  /** Creations still under way. */
  pending(): Promise<Connection>[] {
    const pending: Promise<Connection>[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.pending !== undefined) pending.push(entry.pending);
    }
    return pending;
  }

  /** Removes and returns every connection held, for closing. */
  drain(): Connection[] {
    const connections: Connection[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.connection !== undefined) {
        connections.push(entry.connection);
        this.#retire(entry.connection);
      }
    }
    this.#entries.clear();
    return connections;
  }

  /** Metrics of every connection this origin has held, summed. */
  metrics(): MetricsSnapshot {
    const snapshots: MetricsSnapshot[] = this.#retired === undefined ? [] : [this.#retired];
    for (const entry of this.#entries.values()) {
      if (entry.connection !== undefined) snapshots.push(entry.connection.metrics.snapshot());
    }
    return sumMetricsSnapshots(snapshots);
  }

  #drop(connection: Connection): void {
    this.#retire(connection);
    if (!connection.closed) this.#onDeadOpen(connection);
  }

  #retire(connection: Connection): void {
    const snapshot = connection.metrics.snapshot();
    this.#retired =
      this.#retired === undefined ? snapshot : sumMetricsSnapshots([this.#retired, snapshot]);
  }
}
