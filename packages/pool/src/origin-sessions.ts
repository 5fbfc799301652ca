import {
  type Connection,
  type MetricsSnapshot,
  SessionLimitError,
  sumMetricsSnapshots,
} from '@mcp/connection-core';
import type { Pool } from 'undici';

/** One session slot: a connection being made (`pending`), then made (`connection`). */
export interface SessionEntry {
  readonly url: string;
  readonly key: string | undefined;
  connection: Connection | undefined;
  pending: Promise<Connection> | undefined;
}

/**
 * The sessions of one origin and the dispatcher they all ride. The map's insertion order is
 * the order of last use (a hit moves its entry to the end), so the first idle entry is the
 * least recently used one.
 */
export class OriginSessions {
  readonly origin: string;
  readonly dispatcher: Pool;
  readonly #entries = new Map<string, SessionEntry>();
  /** Metrics of connections no longer held, so totals never go backwards. */
  #retired: MetricsSnapshot | undefined;

  constructor(origin: string, dispatcher: Pool) {
    this.origin = origin;
    this.dispatcher = dispatcher;
  }

  /** Open and pending sessions, after dropping closed ones. */
  get size(): number {
    this.prune();
    return this.#entries.size;
  }

  /** The live entry for `sessionKey`, marked as just used; a closed one is dropped. */
  take(sessionKey: string): SessionEntry | undefined {
    const entry = this.#entries.get(sessionKey);
    if (entry === undefined) return undefined;
    this.#entries.delete(sessionKey);
    if (entry.connection?.closed === true) {
      this.#retire(entry.connection);
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
   * connection, removed, for the caller to close; undefined when there was room already.
   * Throws SessionLimitError when every session has requests in flight or is being made.
   */
  makeRoom(limit: number): Connection | undefined {
    this.prune();
    if (this.#entries.size < limit) return undefined;
    for (const [sessionKey, entry] of this.#entries) {
      const connection = entry.connection;
      if (connection !== undefined && connection.metrics.inFlight === 0) {
        this.#entries.delete(sessionKey);
        this.#retire(connection);
        return connection;
      }
    }
    throw new SessionLimitError(this.origin, limit);
  }

  /** Drops closed connections. */
  prune(): void {
    for (const [sessionKey, entry] of this.#entries) {
      if (entry.connection?.closed === true) {
        this.#entries.delete(sessionKey);
        this.#retire(entry.connection);
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

  #retire(connection: Connection): void {
    const snapshot = connection.metrics.snapshot();
    this.#retired =
      this.#retired === undefined ? snapshot : sumMetricsSnapshots([this.#retired, snapshot]);
  }
}
