import type { JsonRpcErrorResponse, JsonRpcId, JsonRpcMessage } from '@mcp/connection-core';

/**
 * The options the official SDK passes to `Transport.send()`: v1's (`@modelcontextprotocol/sdk`)
 * and v2's (`@modelcontextprotocol/client`), which adds `requestSignal`, `onRequestStreamEnd` and
 * `headers`. Written out here so neither SDK is needed at run time; the typecheck of `test/clients.ts` checks
 * that `ConnectionTransport` is assignable to both SDKs' `Transport`.
 */
export interface TransportSendOptions {
  /** The incoming request this message answers or relates to (server side only in the SDK). */
  relatedRequestId?: JsonRpcId | undefined;
  /** Resume a request from an earlier stream: refused with UnsupportedError (see README). */
  resumptionToken?: string | undefined;
  onresumptiontoken?: ((token: string) => void) | undefined;
  /** v2: aborting it cancels this one request (its HTTP stream) without closing the transport. */
  requestSignal?: AbortSignal | undefined;
  /** v2: called when a request's stream ends for any reason but `requestSignal`. */
  onRequestStreamEnd?: (() => void) | undefined;
  /** v2: extra headers for 2026-07-28 connections; this transport speaks the 2025 revisions. */
  headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * The SDK's `onmessage` callback, generic over the message type in both SDKs. `extra` (the
 * HTTP request, auth info) is for server transports; this one passes none.
 */
export type MessageHandler = <T extends SdkMessage>(message: T, extra?: unknown) => void;

/** A JSON-RPC message as the SDK types it: there, an error response may carry no id. */
export type SdkMessage =
  | JsonRpcMessage
  | (Omit<JsonRpcErrorResponse, 'id'> & { id?: JsonRpcId | undefined });
