import {
  type Connection,
  ConnectionClosedError,
  ErrorCode,
  type HttpStatusError,
  InvalidStateError,
  isJsonRpcRequest,
  isJsonRpcResponse,
  isMcpConnectionError,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  UnsupportedError,
} from '@mcp/connection-core';
import { type ConnectionTransportOptions, parseConnectionTransportOptions } from './options.ts';
import type { MessageHandler, SdkMessage, TransportSendOptions } from './types.ts';

/** Where a transport gets its connection: one given, or one made when the SDK starts it. */
export type ConnectionSource = Connection | (() => Promise<Connection>);

/**
 * The longest time limit a Node timer takes (about 24.8 days). The SDK `Client` keeps each
 * request's time limit itself (`timeout`, `resetTimeoutOnProgress`, `maxTotalTimeout`) and
 * cancels the request when it passes, so the connection's own limit must never fire first.
 */
const SDK_OWNS_THE_DEADLINE_MS = 2 ** 31 - 1;

const CANCELLED = 'notifications/cancelled';

/**
 * The official MCP SDK's `Transport` (v1 `@modelcontextprotocol/sdk` and v2
 * `@modelcontextprotocol/client`) over any `Connection` from `@mcp/connection-core`:
 *
 * ```ts
 * await client.connect(new ConnectionTransport(createHttp2Connection({ url })));
 * ```
 *
 * The transport owns the connection: `close()` closes it (ending the session with DELETE).
 */
export class ConnectionTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: MessageHandler | undefined;
  /** Each request travels on its own HTTP request, so `requestSignal` cancels just that one. */
  readonly hasPerRequestStream = true;

  #source: ConnectionSource;
  #options: ConnectionTransportOptions;
  #connection: Connection | undefined;
  #started = false;
  #closed = false;
  #closeReported = false;
  #protocolVersion: string | undefined;
  /** Requests in flight by id, each with the controller that cancels it. */
  readonly #inFlight = new Map<JsonRpcId, AbortController>();

  /** Throws TypeError for what is not a connection, InvalidOptionsError for a bad option. */
  constructor(source: ConnectionSource, options: ConnectionTransportOptions = {}) {
    if (typeof source !== 'function' && !isConnection(source)) {
      throw new TypeError('ConnectionTransport needs a Connection or a function returning one');
    }
    this.#source = source;
    this.#options = parseConnectionTransportOptions(options);
  }

  /** The server's session id, once `initialize` was answered. */
  get sessionId(): string | undefined {
    return this.#connection?.sessionId;
  }

  /** The negotiated protocol version: the SDK's word once it set it, else the connection's. */
  get protocolVersion(): string | undefined {
    return this.#protocolVersion ?? this.#connection?.protocolVersion;
  }

  /** The connection under this transport, once started. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#started) throw new InvalidStateError('ConnectionTransport already started');
    this.#started = true;
    const connection = typeof this.#source === 'function' ? await this.#source() : this.#source;
    if (this.#closed) {
      await connection.close();
      throw new ConnectionClosedError('ConnectionTransport was closed while starting');
    }
    if (connection.closed) throw new ConnectionClosedError();
    this.#connection = connection;
    void this.#pump(connection);
  }

  /**
   * Sends a request (resolving once it is answered, its response handed to `onmessage`), a
   * notification, or a response to a server request. A `notifications/cancelled` for a request
   * in flight cancels it on the wire too: the connection resets its stream and tells the server.
   */
  async send(outgoing: SdkMessage, options?: TransportSendOptions): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined) {
      throw this.#closed ? new ConnectionClosedError() : new InvalidStateError('Not started');
    }
    if (options?.resumptionToken !== undefined) {
      throw new UnsupportedError(
        'resumptionToken',
        'the connection resumes its own streams with Last-Event-ID and exposes no token',
      );
    }
    const message = withId(outgoing);
    if (isJsonRpcResponse(message)) return this.#authorized(() => connection.respond(message));
    if (isJsonRpcRequest(message)) return this.#request(connection, message, options);
    if (message.method === CANCELLED && this.#cancel(message.params)) return;
    return this.#authorized(() => connection.notify(message));
  }

  /** Ends the session (DELETE) and closes the connection; `onclose` is called once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#connection?.close();
    } finally {
      this.#ended();
    }
  }

  /**
   * What the SDK's `StreamableHTTPClientTransport.terminateSession()` does (DELETE the session),
   * here by closing the transport: a connection is one session, so a new session needs a new
   * transport (`client.connect(new ConnectionTransport(...))`).
   */
  terminateSession(): Promise<void> {
    return this.close();
  }

  async #request(
    connection: Connection,
    message: JsonRpcRequest,
    options: TransportSendOptions | undefined,
  ): Promise<void> {
    const controller = new AbortController();
    const requestSignal = options?.requestSignal;
    const abort = (): void => controller.abort(requestSignal?.reason);
    requestSignal?.addEventListener('abort', abort, { once: true });
    this.#inFlight.set(message.id, controller);
    let response: JsonRpcResponse;
    try {
      response = await this.#authorized(() =>
        connection.request(message, {
          signal: controller.signal,
          timeoutMs: SDK_OWNS_THE_DEADLINE_MS,
          onMessage: (related) => this.#deliver(related),
        }),
      );
    } catch (error) {
      // Cancelled by the SDK (timeout, abort): it has settled the request itself already.
      if (controller.signal.aborted) return;
      options?.onRequestStreamEnd?.();
      throw error;
    } finally {
      requestSignal?.removeEventListener('abort', abort);
      if (this.#inFlight.get(message.id) === controller) this.#inFlight.delete(message.id);
    }
    this.#deliver(response);
  }

  /** Runs `send`; after a 401 or 403, lets `onUnauthorized` get credentials and runs it once more. */
  async #authorized<T>(send: () => Promise<T>): Promise<T> {
    const onUnauthorized = this.#options.onUnauthorized;
    if (onUnauthorized === undefined) return send();
    try {
      return await send();
    } catch (error) {
      if (!isAuthChallenge(error)) throw error;
      await onUnauthorized(error);
      return send();
    }
  }

  /** Cancels the request a `notifications/cancelled` names; false when none is in flight. */
  #cancel(params: unknown): boolean {
    const { requestId, reason } = (params ?? {}) as { requestId?: JsonRpcId; reason?: unknown };
    const controller = requestId === undefined ? undefined : this.#inFlight.get(requestId);
    if (controller === undefined) return false;
    controller.abort(typeof reason === 'string' ? reason : undefined);
    return true;
  }

  /** Hands the messages the server sends outside any request to the SDK, until it closes. */
  async #pump(connection: Connection): Promise<void> {
    try {
      for (;;) {
        const message = await connection.receive();
        if (message === undefined) break;
        this.#deliver(message);
      }
    } catch (error) {
      this.onerror?.(error as Error);
    }
    this.#closed = true;
    this.#ended();
  }

  #deliver(message: JsonRpcMessage): void {
    try {
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error as Error);
    }
  }

  #ended(): void {
    if (this.#closeReported) return;
    this.#closeReported = true;
    this.onclose?.();
  }
}

/** A 401 or 403 from the server (matched by code, so another copy of the package counts too). */
function isAuthChallenge(error: unknown): error is HttpStatusError {
  if (!isMcpConnectionError(error) || error.code !== ErrorCode.HTTP_STATUS) return false;
  const status = (error as HttpStatusError).status;
  return status === 401 || status === 403;
}

/** JSON-RPC writes a missing id as null (an error about a message whose id was unreadable). */
function withId(message: SdkMessage): JsonRpcMessage {
  return message.id === undefined && !('method' in message)
    ? ({ ...message, id: null } as JsonRpcMessage)
    : (message as JsonRpcMessage);
}

function isConnection(value: unknown): value is Connection {
  const c = value as Partial<Connection> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.request === 'function' &&
    typeof c.notify === 'function' &&
    typeof c.respond === 'function' &&
    typeof c.receive === 'function' &&
    typeof c.close === 'function'
  );
}
