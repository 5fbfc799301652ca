import type { Connection } from '@mcp/connection-core';
import type { ServerStreamOpened } from '@mcp/http2';
import { ALWAYS_OPEN, type ServerStreamControl, streamControlOf } from './fallback-connection.ts';

/**
 * The upstream GET stream of one session follows the client's: it opens when the client opens
 * its GET stream and closes `lingerMs` after the client's closes (a client that reconnects
 * within that time, with Last-Event-ID, finds it still open). It also opens with the session,
 * for `lingerMs`: clients (the SDK's among them) call tools before their GET stream is up, and
 * what a server sends on its GET stream meanwhile would otherwise be lost. An idle session so
 * holds no upstream stream, and over HTTP/1.1 no socket.
 *
 * While no upstream stream is open the upstream server has nowhere to send server-initiated
 * messages that belong to no request: the spec lets it send them only on a GET stream, so it
 * drops them, or keeps them in its event store for a resumed stream. Messages related to a
 * request still arrive on that request's response. Upstream connections that cannot follow
 * (a legacy HTTP+SSE session, whose stream is the session) keep theirs open.
 */
export class UpstreamStreamFollower {
  readonly #connection: ServerStreamControl | undefined;
  readonly #lingerMs: number;
  #linger: NodeJS.Timeout | undefined;

  constructor(connection: Connection, lingerMs: number) {
    this.#connection = streamControlOf(connection);
    this.#lingerMs = lingerMs;
  }

  /** The session started: open the stream, for `lingerMs` unless the client opens its own. */
  sessionStarted(): void {
    if (this.#connection === undefined) return;
    this.#connection.openServerStream().catch(() => {});
    this.clientClosed();
  }

  /**
   * The client opens a GET stream (resuming the upstream's after `lastEventId`, if given): how
   * the upstream answered, and when its stream ends. A connection that cannot follow has its
   * stream open for as long as it lives.
   */
  clientOpened(lastEventId?: string): Promise<ServerStreamOpened> {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    return this.#connection?.openServerStream(lastEventId) ?? ALWAYS_OPEN;
  }

  /** The client's GET stream closed (and no other replaced it). */
  clientClosed(): void {
    if (this.#connection === undefined) return;
    clearTimeout(this.#linger);
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      this.#connection?.closeServerStream();
    }, this.#lingerMs);
    this.#linger.unref();
  }

  /** The session ended: no timer left behind (closing the connection ends its stream). */
  stop(): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
  }
}
