import { envelopeOf, MetaKey } from './era.ts';
import type { JsonRpcRequest } from './jsonrpc.ts';

/**
 * The standard request headers of the 2026-07-28 Streamable HTTP transport, derived from the
 * body so intermediaries can route without parsing it: `MCP-Protocol-Version`, `Mcp-Method`,
 * and `Mcp-Name` for the methods that name a tool, prompt, resource or task.
 */
export const StandardHeader = {
  PROTOCOL_VERSION: 'mcp-protocol-version',
  METHOD: 'mcp-method',
  NAME: 'mcp-name',
} as const;

/** Which `params` field `Mcp-Name` mirrors, by method. */
const NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';

/** The value `Mcp-Name` carries for `request`, or undefined when its method names nothing. */
export function mcpNameOf(request: JsonRpcRequest): string | undefined {
  const field = Object.hasOwn(NAME_SOURCE, request.method)
    ? NAME_SOURCE[request.method]
    : undefined;
  const params = request.params;
  if (field === undefined || params === undefined || Array.isArray(params)) return undefined;
  const value = params[field];
  return typeof value === 'string' ? value : undefined;
}

function needsBase64(value: string): boolean {
  if (value.length === 0 || value !== value.trim()) return true;
  if (value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX)) return true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 9 && (c < 0x20 || c > 0x7e)) return true;
  }
  return false;
}

/**
 * Encodes a value as an HTTP field value the spec's way: plain printable ASCII as it is, and
 * anything else (non-ASCII, control characters, surrounding spaces, empty, or text that looks
 * like the sentinel) as `=?base64?<base64 of its UTF-8>?=`.
 */
export function encodeHeaderValue(value: string): string {
  if (!needsBase64(value)) return value;
  return `${SENTINEL_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`;
}

/** Decodes what `encodeHeaderValue` produced; undefined when the sentinel holds no base64. */
export function decodeHeaderValue(value: string): string | undefined {
  if (!value.startsWith(SENTINEL_PREFIX) || !value.endsWith(SENTINEL_SUFFIX)) return value;
  const encoded = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** The standard headers of a 2026-07-28 request (lower-case names). */
export function standardHeadersFor(
  request: JsonRpcRequest,
  protocolVersion: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    [StandardHeader.PROTOCOL_VERSION]: protocolVersion,
    [StandardHeader.METHOD]: request.method,
  };
  const name = mcpNameOf(request);
  if (name !== undefined) headers[StandardHeader.NAME] = encodeHeaderValue(name);
  return headers;
}

/** What a 2026-07-28 request's headers say, read by the receiver. */
export interface ReceivedStandardHeaders {
  protocolVersion: string | undefined;
  method: string | undefined;
  name: string | undefined;
}

/**
 * Checks that a 2026-07-28 request's headers match its body (the receiver's side). Returns
 * what disagrees, for a 400 with HEADER_MISMATCH_CODE, or undefined when all agree.
 */
export function standardHeaderMismatch(
  received: ReceivedStandardHeaders,
  request: JsonRpcRequest,
): string | undefined {
  const claimed = envelopeOf(request)?.[MetaKey.PROTOCOL_VERSION];
  if (received.protocolVersion === undefined) return 'the MCP-Protocol-Version header is missing';
  if (received.protocolVersion !== claimed) {
    return `MCP-Protocol-Version ${JSON.stringify(received.protocolVersion)} does not match _meta's ${JSON.stringify(claimed)}`;
  }
  if (received.method === undefined) return 'the Mcp-Method header is missing';
  if (received.method !== request.method) {
    return `Mcp-Method ${JSON.stringify(received.method)} does not match the body's method ${JSON.stringify(request.method)}`;
  }
  const name = mcpNameOf(request);
  if (name === undefined) return undefined;
  if (received.name === undefined) return 'the Mcp-Name header is missing';
  if (decodeHeaderValue(received.name) !== name) {
    return `Mcp-Name does not match the body's ${JSON.stringify(name)}`;
  }
  return undefined;
}
