import type { Connection } from '@mcp/connection-core';

/** A 2025-11-25 upstream session held for one client and one set of capabilities. */
export interface BridgedSession {
  connection: Connection;
  /** The upstream's `initialize` result: what `server/discover` is answered from. */
  initialized: Record<string, unknown>;
  nextId: number;
}

export interface BridgedSessionsOptions {
  /** Sessions held at most; past it the least recently used one is ended. */
  maxSessions: number;
  /** A session neither used nor in use for this long is ended, in ms. */
  idleTimeoutMs: number;
}

/** A held session, in use until `release()` (a call in flight, or one waiting for input). */
export interface BridgedLease {
  session: BridgedSession;
  release(): void;
}

interface Entry {
  opening: Promise<BridgedSession>;
  lastUsed: number;
  inUse: number;
  idle: NodeJS.Timeout;
}

/**
 * The upstream sessions the bridge holds for 2026-07-28 clients of 2025-11-25-only upstreams,
 * by owner (a client's credentials and capabilities, hashed). At most `maxSessions`, the least
 * recently used ended past it; each has one idle timer, and is ended (DELETE upstream) once it
 * has been neither used nor in use for `idleTimeoutMs`.
 */
export class BridgedSessions {
  readonly #entries = new Map<string, Entry>();
  readonly #options: BridgedSessionsOptions;

  constructor(options: BridgedSessionsOptions) {
    this.#options = options;
  }

  /** Sessions held now (opening ones included). */
  get size(): number {
    return this.#entries.size;
  }

  /** The session held under `key`, opened by `open` when there is none (or it has closed). */
  async acquire(key: string, open: () => Promise<BridgedSession>): Promise<BridgedLease> {
    const entry = this.#use(key, open);
    let session: BridgedSession;
    try {
      session = await entry.opening;
    } catch (err) {
      this.#release(entry);
      this.#end(key, entry);
      throw err;
    }
    if (!session.connection.closed) return { session, release: () => this.#release(entry) };
    this.#release(entry);
    this.#end(key, entry);
    return this.acquire(key, open);
  }

  /** Ends every session (at shutdown). */
  async closeAll(): Promise<void> {
    const ending = [...this.#entries].map(([key, entry]) => this.#end(key, entry));
    await Promise.allSettled(ending);
  }

  #use(key: string, open: () => Promise<BridgedSession>): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const idle = setTimeout(() => this.#onIdle(key), this.#options.idleTimeoutMs);
      idle.unref();
      entry = { opening: open(), lastUsed: performance.now(), inUse: 0, idle };
      // A failure is reported to the caller that opened it (acquire), and the entry forgotten.
      entry.opening.catch(() => {});
    }
    this.#entries.delete(key); // most recently used last
    this.#entries.set(key, entry);
    entry.inUse++;
    entry.lastUsed = performance.now();
    if (this.#entries.size > this.#options.maxSessions) this.#evictOldest();
    return entry;
  }

  #release(entry: Entry): void {
    entry.inUse--;
    entry.lastUsed = performance.now();
  }

  #evictOldest(): void {
    const [key, oldest] = this.#entries.entries().next().value as [string, Entry];
    void this.#end(key, oldest);
  }

  /**
   * Runs at the latest `idleTimeoutMs` after the session's last use: ends it unless it is in
   * use or was used since; otherwise looks again when the limit is next due.
   */
  #onIdle(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    const { idleTimeoutMs } = this.#options;
    const left = idleTimeoutMs - (performance.now() - entry.lastUsed);
    if (entry.inUse > 0 || left > 0) {
      entry.idle = setTimeout(() => this.#onIdle(key), entry.inUse > 0 ? idleTimeoutMs : left);
      entry.idle.unref();
      return;
    }
    void this.#end(key, entry);
  }

  /** Forgets the session and ends it upstream (DELETE), whatever the connection's options. */
  async #end(key: string, entry: Entry): Promise<void> {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    clearTimeout(entry.idle);
    const session = await entry.opening.catch(() => undefined);
    if (session === undefined) return;
    const connection = session.connection as Connection & { endSession?: () => Promise<unknown> };
    const ending =
      typeof connection.endSession === 'function' ? connection.endSession() : connection.close();
    await ending.catch(() => {});
  }
}
