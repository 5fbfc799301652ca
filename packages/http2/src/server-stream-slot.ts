import { MODERN_PROTOCOL_VERSION } from '@mcp/connection-core';
import { http2Channels, type ServerStreamEndMessage } from './channels.ts';
import { noop } from './http.ts';
import {
  ServerStream,
  type ServerStreamAnswer,
  type ServerStreamEnd,
  type ServerStreamHost,
} from './server-stream.ts';

/** How a GET stream opened by `openServerStream()` was answered, and when it ends. */
export interface ServerStreamOpened {
  readonly answer: ServerStreamAnswer;
  readonly ended: Promise<ServerStreamEnd>;
}

/** An answer known at once (no stream to wait for). */
export function serverStreamOpened(
  answer: ServerStreamAnswer,
  end: ServerStreamEnd,
): ServerStreamOpened {
  return { answer, ended: Promise.resolve(end) };
}

/** What the GET stream needs from its connection. */
export interface ServerStreamSlotHost extends ServerStreamHost {
  readonly closed: boolean;
  readonly options: { readonly reinitialize: boolean | 'requests' };
  /** The id of a session that expired and could not be renewed: no stream opens in it. */
  readonly lostSession: string | undefined;
  readonly reinitializing: Promise<void> | undefined;
  reinitialize(generation: number): Promise<void>;
}

/**
 * A connection's GET stream: whether it is wanted (from `initialized` with 'auto', or on
 * demand), the one open or being reopened, its first answer, and what its end means: it is
 * published on `http2Channels.serverStreamEnd`, and a 404 renews the session when
 * `reinitialize` is true.
 */
export class ServerStreamSlot {
  readonly #host: ServerStreamSlotHost;
  #wanted: boolean;
  #stream: ServerStream | undefined;

  constructor(host: ServerStreamSlotHost, wanted: boolean) {
    this.#host = host;
    this.#wanted = wanted;
  }

  /** True while a GET stream is open or being (re)opened. */
  get open(): boolean {
    return this.#stream !== undefined;
  }

  /**
   * Wants the stream from now on, starts it (after a replay under way) and waits for its
   * answer; a 404 that re-initializes the session (`mayRenew`) is answered by the new
   * session's stream.
   */
  async openWanted(
    lastEventId: string | undefined,
    mayRenew: boolean,
  ): Promise<ServerStreamOpened> {
    this.#wanted = true;
    const host = this.#host;
    const replay = host.reinitializing;
    if (replay !== undefined) await replay.catch(noop);
    if (host.lostSession !== undefined) {
      return serverStreamOpened('session-expired', 'session-expired');
    }
    if (host.session.initializedNotification !== undefined) this.start(lastEventId);
    const stream = this.#stream;
    if (stream === undefined) return serverStreamOpened('unavailable', 'stopped');
    const generation = host.session.generation;
    const answer = await stream.answer();
    if (answer !== 'session-expired' || !mayRenew) return { answer, ended: stream.done };
    await host.reinitialize(generation).catch(noop);
    return this.openWanted(undefined, false);
  }

  /** Starts the stream when it is wanted and none is open (never in the stateless era). */
  start(lastEventId?: string): void {
    const host = this.#host;
    if (host.closed || !this.#wanted || this.#stream !== undefined) return;
    if (host.session.era === MODERN_PROTOCOL_VERSION) return; // no GET stream in that era
    const generation = host.session.generation;
    const stream = new ServerStream(host, lastEventId);
    this.#stream = stream;
    stream.done.then((end) => {
      if (this.#stream === stream) this.#stream = undefined;
      if (http2Channels.serverStreamEnd.hasSubscribers) {
        http2Channels.serverStreamEnd.publish({
          target: host.metrics.target,
          sessionId: host.session.sessionId,
          end,
        } satisfies ServerStreamEndMessage);
      }
      if (end === 'session-expired' && host.options.reinitialize === true && !host.closed) {
        host.reinitialize(generation).catch(noop);
      }
    }, noop);
  }

  /** Wants it no more, and closes the open one (its request is aborted). */
  close(): void {
    this.#wanted = false;
    this.stop();
  }

  /** Stops the open stream (a session replay starts the new session's). */
  stop(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.stop();
  }

  /** Takes the open stream out, for the connection's shutdown. */
  take(): ServerStream | undefined {
    const stream = this.#stream;
    this.#stream = undefined;
    return stream;
  }
}
