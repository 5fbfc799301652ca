import type { DiscoverResult, McpEra } from './era.ts';
import type {
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from './jsonrpc.ts';
import type { ConnectionMetrics } from './metrics.ts';

export interface RequestOptions {
  /** Aborting cancels the request: the transport stops it and tells the server. */
  signal?: AbortSignal;
  /** Time limit for the response, in ms. Rejects with TimeoutError. */
  timeoutMs?: number;
  /** Restart the time limit whenever a progress notification for this request arrives. */
  resetTimeoutOnProgress?: boolean;
  /** With `resetTimeoutOnProgress`: the limit no progress can extend, in ms from the start. */
  maxTotalTimeoutMs?: number;
  /**
   * Receives, in order and before the response, every message the server sends in relation to
   * this request: progress and logging notifications, server-to-client requests (answer those
   * with `Connection.respond`). It must not throw; what it throws is ignored. When it returns a
   * promise, no further message of this request is read until it settles: the server's stream
   * waits (backpressure), and the request's time limit keeps running.
   */
  onMessage?: (message: JsonRpcMessage) => unknown;
  /**
   * Headers for this message's HTTP requests only (e.g. the credentials of the client a proxy
   * relays it for). They override the connection's own headers of the same name; the protocol's
   * headers (content type, accept, session id, protocol version, Mcp-Method, Mcp-Name, last
   * event id) cannot be set.
   */
  headers?: Readonly<Record<string, string>>;
}

export interface SendOptions {
  signal?: AbortSignal;
  /** Headers for this message's HTTP request only; as `RequestOptions.headers`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * One MCP session (or, for stateless servers, one logical client) over some transport.
 *
 * The same contract serves MCP 2025-11-25 (sessions, `Mcp-Session-Id`) and the stateless era
 * (no session id; cancellation by closing the request's stream): `sessionId` is then undefined.
 */
export interface Connection extends AsyncIterable<JsonRpcMessage>, AsyncDisposable {
  /** The server-assigned session id, once `initialize` has been answered; else undefined. */
  readonly sessionId: string | undefined;
  /**
   * The negotiated protocol version, once `initialize` (2025-11-25 era) or `server/discover`
   * (2026-07-28 era) has been answered; else undefined.
   */
  readonly protocolVersion: string | undefined;
  /**
   * The era the connection speaks: chosen by an option, or negotiated (`server/discover`, or
   * `initialize` as the fallback). Undefined until known.
   */
  readonly era: McpEra | undefined;
  /**
   * The server's `server/discover` result in the 2026-07-28 era (what `initialize`'s result is
   * in the 2025-11-25 era); undefined in the 2025-11-25 era and until discovered.
   */
  readonly discovery: DiscoverResult | undefined;
  /** True when concurrent requests share one transport connection (HTTP/2 streams). */
  readonly isMultiplexed: boolean;
  /** True once closed, by `close()` or because the transport can no longer be used. */
  readonly closed: boolean;
  readonly metrics: ConnectionMetrics;

  /**
   * Sends a request and resolves with the response carrying its id. A JSON-RPC error response
   * resolves too; transport failures, timeouts and aborts reject with a McpConnectionError.
   */
  request(message: JsonRpcRequest, options?: RequestOptions): Promise<JsonRpcResponse>;
  /** Sends a notification. Resolves once the server accepted it. */
  notify(notification: JsonRpcNotification, options?: SendOptions): Promise<void>;
  /** Answers a server-to-client request (sampling, elicitation, roots, ping). */
  respond(response: JsonRpcResponse, options?: SendOptions): Promise<void>;
  /**
   * The next server-initiated message not tied to a request (notifications, requests on the
   * server stream). Resolves undefined once the connection is closed and nothing is left.
   */
  receive(): Promise<JsonRpcMessage | undefined>;
  /** Ends the session (where there is one) and releases everything. Idempotent. */
  close(): Promise<void>;
}

/**
 * The protocol revisions of the `initialize` handshake this project speaks, newest first. The
 * stateless revision, negotiated by `server/discover`, is `MODERN_PROTOCOL_VERSION`.
 */
export const SUPPORTED_PROTOCOL_VERSIONS = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
] as const;

export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];
