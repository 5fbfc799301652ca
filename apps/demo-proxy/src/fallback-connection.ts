import {
  type Connection,
  type DiscoverResult,
  HttpStatusError,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type McpEra,
  type RequestOptions,
  type SendOptions,
} from '@mcp/connection-core';
import {
  type AdoptedSession,
  type FallbackResult,
  LEGACY_FALLBACK_STATUSES,
  type ServerStreamOpened,
} from '@mcp/http2';

/** Opens the session again by `connectWithFallback`, with this `initialize`. */
export type Fallback = (initialize: JsonRpcRequest) => Promise<FallbackResult>;

/** Turns a session's upstream GET stream on and off (see UpstreamStreamFollower). */
export interface ServerStreamControl {
  /**
   * `lastEventId`: resume the upstream stream after it (a stream another replica followed).
   * Says how the upstream answered it, and when it ends.
   */
  openServerStream(lastEventId?: string): Promise<ServerStreamOpened>;
  closeServerStream(): void;
}

/** A stream that is the session itself (a legacy HTTP+SSE session): open while it lives. */
export const ALWAYS_OPEN: Promise<ServerStreamOpened> = Promise.resolve({
  answer: 'open',
  ended: new Promise(() => {}),
});

/** The connection's GET stream switch, when it has one. */
export function streamControlOf(connection: Connection): ServerStreamControl | undefined {
  const c = connection as Connection & Partial<ServerStreamControl>;
  return typeof c.openServerStream === 'function' && typeof c.closeServerStream === 'function'
    ? (c as ServerStreamControl)
    : undefined;
}

/**
 * An upstream session that speaks Streamable HTTP (on the pool's shared connections) and, when
 * the server refuses the `initialize` POST the way a 2024-11-05 HTTP+SSE server does (400, 404,
 * 405), opens it again through `connectWithFallback` and speaks what that found from then on.
 */
export class FallbackConnection implements Connection, ServerStreamControl {
  #current: Connection;
  #initialized = false;
  readonly #fallback: Fallback;

  constructor(streamable: Connection, fallback: Fallback) {
    this.#current = streamable;
    this.#fallback = fallback;
  }

  get sessionId(): string | undefined {
    return this.#current.sessionId;
  }
  get protocolVersion(): string | undefined {
    return this.#current.protocolVersion;
  }
  get era(): McpEra | undefined {
    return this.#current.era;
  }
  get discovery(): DiscoverResult | undefined {
    return this.#current.discovery;
  }
  get isMultiplexed(): boolean {
    return this.#current.isMultiplexed;
  }
  get closed(): boolean {
    return this.#current.closed;
  }
  get metrics(): Connection['metrics'] {
    return this.#current.metrics;
  }

  async request(message: JsonRpcRequest, options?: RequestOptions): Promise<JsonRpcResponse> {
    if (this.#initialized || message.method !== 'initialize') {
      return this.#current.request(message, options);
    }
    this.#initialized = true;
    try {
      return await this.#current.request(message, options);
    } catch (error) {
      const legacy =
        error instanceof HttpStatusError && LEGACY_FALLBACK_STATUSES.includes(error.status);
      if (!legacy) throw error;
    }
    await this.#current.close();
    const found = await this.#fallback(message);
    this.#current = found.connection;
    return found.initializeResponse;
  }

  notify(notification: JsonRpcNotification, options?: SendOptions): Promise<void> {
    return this.#current.notify(notification, options);
  }
  respond(response: JsonRpcResponse, options?: SendOptions): Promise<void> {
    return this.#current.respond(response, options);
  }
  receive(): Promise<JsonRpcMessage | undefined> {
    return this.#current.receive();
  }
  [Symbol.asyncIterator](): AsyncIterator<JsonRpcMessage> {
    return this.#current[Symbol.asyncIterator]();
  }

  /** A legacy session's stream is the session itself: it stays open. */
  openServerStream(lastEventId?: string): Promise<ServerStreamOpened> {
    return streamControlOf(this.#current)?.openServerStream(lastEventId) ?? ALWAYS_OPEN;
  }

  /**
   * Continues an upstream session another replica opened, or marks the one this connection
   * opened as shared (see `Http2Connection.adoptSession`); false when this connection cannot
   * (a legacy HTTP+SSE session lives in one process).
   */
  adoptSession(session: AdoptedSession): boolean {
    const adoptable = this.#current as Connection & {
      adoptSession?: (session: AdoptedSession) => void;
    };
    if (typeof adoptable.adoptSession !== 'function') return false;
    this.#initialized = true;
    adoptable.adoptSession(session);
    return true;
  }

  /** DELETE upstream, then close; the upstream's status (404: it knew the session no more). */
  async endSession(): Promise<number | undefined> {
    const ending = this.#current as Connection & { endSession?: () => Promise<number | undefined> };
    if (typeof ending.endSession === 'function') return ending.endSession();
    await this.#current.close();
    return undefined;
  }
  closeServerStream(): void {
    streamControlOf(this.#current)?.closeServerStream();
  }

  close(): Promise<void> {
    return this.#current.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
