import { randomUUID } from 'node:crypto';
import type { Connection, JsonRpcId } from '@mcp/connection-core';
import { RelayAbort } from './abort-reasons.ts';
import type { UpstreamConfig } from './config.ts';
import { EventBuffer } from './event-buffer.ts';
import type { EventStream } from './event-stream.ts';
import type { SessionCredentials } from './handlers/common.ts';
import { type ClientIdentity, ClientQuotas } from './session-binding.ts';
import { UpstreamStreamFollower } from './upstream-stream.ts';

/** One downstream session and the upstream session that serves it. */
export class ProxySession {
  /** Minted by the proxy; never the upstream's id. A sealed session's is renamed to its token. */
  id: string;
  readonly upstream: UpstreamConfig;
  readonly connection: Connection;
  readonly events: EventBuffer;
  /** Requests in flight, by downstream request id, so a `notifications/cancelled` can abort them. */
  readonly inFlight = new Map<JsonRpcId, AbortController>();
  /** The open GET stream, if any. */
  serverStream: EventStream | undefined;
  /** When the client last closed its GET stream (`performance.now()`), if it ever did. */
  streamClosedAt: number | undefined;
  /** The upstream GET stream, open while the client's is. */
  readonly upstreamStream: UpstreamStreamFollower;
  /** The Authorization it was created with (forwarded only where the upstream allows). */
  readonly credentials: SessionCredentials;
  /** The client that created it: only the same credentials may use it. */
  readonly owner: ClientIdentity;
  /** True once initialize has been answered successfully. */
  initialized = false;
  #closed = false;

  constructor(
    id: string,
    upstream: UpstreamConfig,
    connection: Connection,
    bufferSize: number,
    credentials: SessionCredentials,
    owner: ClientIdentity,
    serverStreamLingerMs: number,
    eventIdPrefix = '',
  ) {
    this.id = id;
    this.credentials = credentials;
    this.owner = owner;
    this.upstream = upstream;
    this.connection = connection;
    this.events = new EventBuffer(bufferSize, eventIdPrefix);
    this.upstreamStream = new UpstreamStreamFollower(connection, serverStreamLingerMs);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get busy(): boolean {
    return this.inFlight.size > 0 || this.streaming;
  }

  /** True while a GET stream is open. */
  get streaming(): boolean {
    return this.serverStream !== undefined && !this.serverStream.closed;
  }

  /** Ends both sides: the downstream GET stream, in-flight requests and the upstream session. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.upstreamStream.stop();
    this.serverStream?.end();
    this.serverStream = undefined;
    for (const controller of this.inFlight.values())
      controller.abort(new RelayAbort('session-closed'));
    this.inFlight.clear();
    await this.connection.close();
  }
}

export interface SessionRegistryOptions {
  maxSessions: number;
  idleTimeoutMs: number;
  /** A session with an open GET stream and no request for this long is ended anyway, in ms. */
  streamIdleTimeoutMs: number;
  /** Sessions one client (by credentials, else by IP) may hold. */
  maxSessionsPerClient: number;
  bufferSize: number;
  serverStreamLingerMs: number;
  /** Makes the prefix of a session's event ids (none by default). */
  eventIdPrefix?: () => string;
  onCountChange: (upstream: string, delta: number) => void;
}

/** The proxy's sessions by downstream id, bounded, idle ones ended. */
interface SessionEntry {
  session: ProxySession;
  idle: NodeJS.Timeout;
  /** `performance.now()` of its latest request. */
  lastUsed: number;
}

export class SessionRegistry {
  #sessions = new Map<string, SessionEntry>();
  #options: SessionRegistryOptions;
  #quotas: ClientQuotas;
  #pending = 0;
  /** Sessions (open or being opened) per upstream origin. */
  #perOrigin = new Map<string, number>();

  constructor(options: SessionRegistryOptions) {
    this.#options = options;
    this.#quotas = new ClientQuotas(options.maxSessionsPerClient);
  }

  /** True when `client` holds (or is opening) as many sessions as one client may. */
  atClientLimit(client: ClientIdentity): boolean {
    return this.#quotas.heldBy(client.key) >= this.#quotas.limit;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions open or being opened to `upstream`'s origin. */
  countFor(upstream: UpstreamConfig): number {
    return this.#perOrigin.get(originOf(upstream)) ?? 0;
  }

  get full(): boolean {
    return this.#sessions.size + this.#pending >= this.#options.maxSessions;
  }

  /**
   * Mints an id and registers a session around the Connection `connect` makes for it. The slot
   * is held while the connection is being made, so concurrent creates respect the limits; the
   * caller checks `full` and `atClientLimit` first. `id`: a sealed session's token, when it
   * is known already (a session another replica opened).
   */
  async create(
    upstream: UpstreamConfig,
    owner: ClientIdentity,
    credentials: SessionCredentials,
    connect: (id: string) => Promise<Connection>,
    id: string = randomUUID(),
  ): Promise<ProxySession> {
    const origin = originOf(upstream);
    this.#pending++;
    this.#perOrigin.set(origin, (this.#perOrigin.get(origin) ?? 0) + 1);
    this.#quotas.acquire(owner.key);
    let connection: Connection;
    try {
      connection = await connect(id);
    } catch (err) {
      this.#perOrigin.set(origin, (this.#perOrigin.get(origin) ?? 1) - 1);
      this.#quotas.release(owner.key);
      throw err;
    } finally {
      this.#pending--;
    }
    const session = new ProxySession(
      id,
      upstream,
      connection,
      this.#options.bufferSize,
      credentials,
      owner,
      this.#options.serverStreamLingerMs,
      this.#options.eventIdPrefix?.(),
    );
    const idle = setTimeout(() => this.#onIdle(session), this.#options.idleTimeoutMs);
    idle.unref();
    this.#sessions.set(id, { session, idle, lastUsed: performance.now() });
    this.#options.onCountChange(upstream.name, 1);
    return session;
  }

  /** The live session with this id on this upstream (callers check who may use it). */
  peek(id: string, upstream: string): ProxySession | undefined {
    const session = this.#sessions.get(id)?.session;
    if (!session || session.upstream.name !== upstream || session.closed) return undefined;
    return session;
  }

  /** Files the session under a new id (a sealed session's token, once it is minted). */
  rekey(session: ProxySession, id: string): void {
    const entry = this.#sessions.get(session.id);
    if (entry?.session !== session) return;
    this.#sessions.delete(session.id);
    session.id = id;
    this.#sessions.set(id, entry);
  }

  /**
   * At `client`'s quota: ends its least recently used session that it has left (it closed its
   * GET stream, as the SDK clients do on close without a DELETE, and has sent nothing since),
   * as its idle limit would later. Returns it, or undefined when the client left none.
   */
  reclaimLeftBy(client: ClientIdentity): ProxySession | undefined {
    let oldest: SessionEntry | undefined;
    for (const entry of this.#sessions.values()) {
      const { session } = entry;
      if (session.owner.key !== client.key || session.busy) continue;
      const closedAt = session.streamClosedAt;
      if (closedAt === undefined || entry.lastUsed > closedAt) continue;
      if (oldest === undefined || entry.lastUsed < oldest.lastUsed) oldest = entry;
    }
    if (oldest === undefined) return undefined;
    void this.remove(oldest.session).catch(() => {});
    return oldest.session;
  }

  /** Marks the session used now (its idle limits count from here). */
  touch(session: ProxySession): void {
    const entry = this.#sessions.get(session.id);
    if (entry?.session === session) entry.lastUsed = performance.now();
  }

  /** Forgets the session and ends both its sides. */
  async remove(session: ProxySession): Promise<void> {
    const entry = this.#sessions.get(session.id);
    if (entry?.session === session) {
      clearTimeout(entry.idle);
      this.#sessions.delete(session.id);
      const origin = originOf(session.upstream);
      this.#perOrigin.set(origin, (this.#perOrigin.get(origin) ?? 1) - 1);
      this.#quotas.release(session.owner.key);
      this.#options.onCountChange(session.upstream.name, -1);
    }
    await session.close();
  }

  /** Ends every session. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#sessions.values()].map((e) => this.remove(e.session)));
  }

  /** Ends every session's GET stream (at shutdown, so draining is not held up by them). */
  endStreams(): void {
    for (const { session } of this.#sessions.values()) {
      session.serverStream?.end();
      session.serverStream = undefined;
    }
  }

  /**
   * Runs at the latest `idleTimeoutMs` after the session's latest request: ends it unless a
   * request is in flight, or it has been used within its limit (`streamIdleTimeoutMs` while a
   * GET stream is open, else `idleTimeoutMs`); otherwise looks again when that limit is due.
   */
  #onIdle(session: ProxySession): void {
    const entry = this.#sessions.get(session.id);
    if (!entry) return;
    const { idleTimeoutMs, streamIdleTimeoutMs } = this.#options;
    const limit = session.streaming ? streamIdleTimeoutMs : idleTimeoutMs;
    const left = limit - (performance.now() - entry.lastUsed);
    const wait = session.inFlight.size > 0 ? idleTimeoutMs : Math.min(left, idleTimeoutMs);
    if (wait > 0) {
      clearTimeout(entry.idle);
      entry.idle = setTimeout(() => this.#onIdle(session), wait);
      entry.idle.unref();
      return;
    }
    void this.remove(session).catch(() => {});
  }
}

function originOf(upstream: UpstreamConfig): string {
  return new URL(upstream.url).origin;
}
