import { z } from 'zod';
import type { JsonRpcRequest } from './jsonrpc.ts';

/**
 * The two eras of MCP this project speaks: 2025-11-25 (and the revisions before it: an
 * `initialize` handshake, `Mcp-Session-Id`, server-to-client requests) and 2026-07-28
 * (stateless: `server/discover`, a `_meta` envelope on every request, multi round-trip requests,
 * `subscriptions/listen`).
 */
export type McpEra = '2026-07-28' | '2025-11-25';

/** The first (and so far only) revision of the stateless era. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';
export const LEGACY_PROTOCOL_VERSION = '2025-11-25';

/** Revision ids are ISO dates: every revision from 2026-07-28 on is of the stateless era. */
export function isModernProtocolVersion(version: string): boolean {
  return version >= MODERN_PROTOCOL_VERSION;
}

/** The era a protocol version belongs to. */
export function eraOf(version: string): McpEra {
  return isModernProtocolVersion(version) ? MODERN_PROTOCOL_VERSION : LEGACY_PROTOCOL_VERSION;
}

/** Reserved `_meta` keys of the 2026-07-28 revision. */
export const MetaKey = {
  PROTOCOL_VERSION: 'io.modelcontextprotocol/protocolVersion',
  CLIENT_CAPABILITIES: 'io.modelcontextprotocol/clientCapabilities',
  CLIENT_INFO: 'io.modelcontextprotocol/clientInfo',
  SERVER_INFO: 'io.modelcontextprotocol/serverInfo',
  LOG_LEVEL: 'io.modelcontextprotocol/logLevel',
  SUBSCRIPTION_ID: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** JSON-RPC error code of a header that disagrees with the body (HTTP 400). */
export const HEADER_MISMATCH_CODE = -32020;
/** JSON-RPC error code of a protocol version the server does not serve (HTTP 400). */
export const UNSUPPORTED_PROTOCOL_VERSION_CODE = -32022;

const ImplementationSchema = z.looseObject({ name: z.string(), version: z.string() });
const CapabilitiesSchema = z.record(z.string(), z.unknown());

/** The envelope every 2026-07-28 request carries in `params._meta`. */
export const RequestMetaEnvelopeSchema = z.looseObject({
  [MetaKey.PROTOCOL_VERSION]: z.string(),
  [MetaKey.CLIENT_CAPABILITIES]: CapabilitiesSchema,
  [MetaKey.CLIENT_INFO]: ImplementationSchema.optional(),
  [MetaKey.LOG_LEVEL]: z.string().optional(),
});
export type RequestMetaEnvelope = z.infer<typeof RequestMetaEnvelopeSchema>;

/** `resultType`: 'complete' (the default when absent), 'input_required', or a later kind. */
export const ResultTypeSchema = z.string();

/** The answer to `server/discover`: what `initialize`'s result was in the 2025-11-25 era. */
export const DiscoverResultSchema = z.looseObject({
  resultType: ResultTypeSchema.optional(),
  supportedVersions: z.array(z.string()).min(1),
  capabilities: CapabilitiesSchema,
  instructions: z.string().optional(),
  ttlMs: z.number().int().min(0).optional(),
  cacheScope: z.enum(['public', 'private']).optional(),
  _meta: z.looseObject({ [MetaKey.SERVER_INFO]: ImplementationSchema.optional() }).optional(),
});
export type DiscoverResult = z.infer<typeof DiscoverResultSchema>;

/** One request a server embeds in an `input_required` result (MRTR). */
export const InputRequestSchema = z.looseObject({
  method: z.enum(['elicitation/create', 'sampling/createMessage', 'roots/list']),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type InputRequest = z.infer<typeof InputRequestSchema>;

/** A result asking the client for input before the server can finish (multi round-trip). */
export const InputRequiredResultSchema = z.looseObject({
  resultType: z.literal('input_required'),
  inputRequests: z.record(z.string(), InputRequestSchema).optional(),
  requestState: z.string().optional(),
});
export type InputRequiredResult = z.infer<typeof InputRequiredResultSchema>;

/** What a `subscriptions/listen` request asks to hear about. */
export const SubscriptionFilterSchema = z.looseObject({
  toolsListChanged: z.boolean().optional(),
  promptsListChanged: z.boolean().optional(),
  resourcesListChanged: z.boolean().optional(),
  resourceSubscriptions: z.array(z.string()).optional(),
});
export type SubscriptionFilter = z.infer<typeof SubscriptionFilterSchema>;

export const SubscriptionsAcknowledgedSchema = z.looseObject({
  method: z.literal('notifications/subscriptions/acknowledged'),
  params: z.looseObject({ notifications: SubscriptionFilterSchema }),
});

/** The `_meta` envelope of `request`, when it claims one (a protocol version string). */
export function envelopeOf(request: JsonRpcRequest): Record<string, unknown> | undefined {
  const params = request.params;
  if (params === undefined || Array.isArray(params)) return undefined;
  const meta = params._meta;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  const record = meta as Record<string, unknown>;
  return typeof record[MetaKey.PROTOCOL_VERSION] === 'string' ? record : undefined;
}

/** True when the result asks for input (MRTR) rather than being final. */
export function isInputRequired(result: unknown): result is InputRequiredResult {
  return (
    typeof result === 'object' &&
    result !== null &&
    (result as { resultType?: unknown }).resultType === 'input_required'
  );
}
