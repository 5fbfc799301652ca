import type { JsonRpcMessage } from './jsonrpc.ts';

/** A non-enumerable symbol key: JSON.stringify, spreads and deep equality never see it. */
const RAW_JSON = Symbol('mcp.rawJson');

type WithRawJson = JsonRpcMessage & { [RAW_JSON]?: Uint8Array };

/**
 * Remembers the bytes `message` was parsed from, when they hold that message and nothing else.
 * A transport does it when asked (`RequestOptions.keepRawResponse`), so that a proxy that
 * relays the message unchanged can send those bytes instead of serialising it again.
 */
export function keepRawJson(message: JsonRpcMessage, bytes: Uint8Array): void {
  Object.defineProperty(message, RAW_JSON, { value: bytes, configurable: true });
}

/** The bytes `message` was parsed from, when its transport kept them (see `keepRawJson`). */
export function rawJsonOf(message: JsonRpcMessage): Uint8Array | undefined {
  return (message as WithRawJson)[RAW_JSON];
}
