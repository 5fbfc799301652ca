import type {
  ConnectionMetrics,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcResponse,
} from '@mcp/connection-core';
import type { RequestExchange } from './exchange.ts';
import type { HttpTarget } from './http.ts';
import type { ResolvedHttp2ConnectionOptions } from './options.ts';
import type { SessionState } from './session.ts';

/** What an exchange needs from its connection. */
export interface ExchangeHost {
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly metrics: ConnectionMetrics;
  readonly options: ResolvedHttp2ConnectionOptions;
  /** Gives the request's slot back (it held one unless it was sent outside the limit). */
  releaseSlot(): void;
  /** Takes a waiting exchange out of the queue. */
  leaveQueue(exchange: RequestExchange): void;
  exchangeSettled(exchange: RequestExchange): void;
  /** The session replay in progress, if any: requests wait for it before they are sent. */
  readonly reinitializing: Promise<void> | undefined;
  /** Negotiates a new session unless `generation` is already outdated. */
  reinitialize(generation: number): Promise<void>;
  sendCancelled(id: JsonRpcId, reason: string): void;
  initializeAnswered(response: JsonRpcResponse, sessionId: string | undefined): void;
  /** A response to another request in flight; true when one took it. */
  routeResponse(response: JsonRpcResponse): boolean;
  /** A server request nobody listens to on this exchange: to `receive()`. */
  deliverUnrelated(message: JsonRpcMessage): void;
}
