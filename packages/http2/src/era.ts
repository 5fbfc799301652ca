import {
  type DiscoverResult,
  DiscoverResultSchema,
  EraNegotiationError,
  envelopeOf,
  HttpStatusError,
  type JsonRpcRequest,
  type JsonRpcResponse,
  MetaKey,
  MODERN_PROTOCOL_VERSION,
  ProtocolError,
  type RequestOptions,
} from '@mcp/connection-core';
import type { ResolvedHttp2ConnectionOptions } from './options.ts';
import type { SessionState } from './session.ts';

/** What era negotiation needs from its connection. */
export interface NegotiationHost {
  readonly options: ResolvedHttp2ConnectionOptions;
  readonly session: SessionState;
  /** Sends a request as it is (no envelope added), through the usual exchange. */
  send(message: JsonRpcRequest, options: RequestOptions | undefined): Promise<JsonRpcResponse>;
}

/**
 * The caller's `initialize`, in an era other than '2025-11-25': probes with `server/discover`
 * (same id, the envelope built from `initialize`'s capabilities and clientInfo). A modern answer
 * makes the connection stateless and answers `initialize` from the discovery, so code written
 * for the handshake works in both eras. Otherwise 'auto' sends `initialize` itself, and
 * '2026-07-28' fails with EraNegotiationError. One round trip either way for a modern server,
 * two for a legacy one under 'auto' (as SDK v2); none added to later calls.
 */
export async function negotiate(
  host: NegotiationHost,
  initialize: JsonRpcRequest,
  options: RequestOptions | undefined,
): Promise<JsonRpcResponse> {
  const envelope = envelopeFromInitialize(initialize);
  const probe: JsonRpcRequest = {
    jsonrpc: '2.0',
    id: initialize.id,
    method: 'server/discover',
    params: { _meta: envelope },
  };
  const pinned = host.options.era === MODERN_PROTOCOL_VERSION;
  let answer: JsonRpcResponse | undefined;
  try {
    answer = await host.send(probe, options);
  } catch (error) {
    if (!isLegacySignal(error)) throw error;
    if (pinned) throw new EraNegotiationError(MODERN_PROTOCOL_VERSION, [], { cause: error });
  }
  const discovery =
    answer !== undefined && 'result' in answer ? asDiscovery(answer.result) : undefined;
  if (discovery?.supportedVersions.includes(MODERN_PROTOCOL_VERSION)) {
    host.session.discovered(discovery, envelope);
    return initializeAnswer(initialize, discovery);
  }
  if (pinned) {
    throw new EraNegotiationError(MODERN_PROTOCOL_VERSION, discovery?.supportedVersions ?? [], {
      cause: answer,
    });
  }
  return host.send(initialize, options);
}

/** `request` with the connection's envelope in `params._meta` (its own keys win). */
export function withEnvelope(
  request: JsonRpcRequest,
  envelope: Record<string, unknown>,
): JsonRpcRequest {
  if (envelopeOf(request) !== undefined) return request;
  const params = request.params;
  if (Array.isArray(params)) return request;
  const meta = params?._meta as Record<string, unknown> | undefined;
  return { ...request, params: { ...params, _meta: { ...envelope, ...meta } } };
}

function envelopeFromInitialize(initialize: JsonRpcRequest): Record<string, unknown> {
  const params = (Array.isArray(initialize.params) ? undefined : initialize.params) ?? {};
  const envelope: Record<string, unknown> = {
    [MetaKey.PROTOCOL_VERSION]: MODERN_PROTOCOL_VERSION,
    [MetaKey.CLIENT_CAPABILITIES]: params.capabilities ?? {},
  };
  if (params.clientInfo !== undefined) envelope[MetaKey.CLIENT_INFO] = params.clientInfo;
  return envelope;
}

/**
 * What a server that does not know `server/discover` answers: a 4xx other than 401/403, or a
 * body with no answer to the probe (an error without its id).
 */
function isLegacySignal(error: unknown): boolean {
  if (error instanceof ProtocolError) return true;
  if (!(error instanceof HttpStatusError)) return false;
  const status = error.status;
  return status >= 400 && status < 500 && status !== 401 && status !== 403;
}

function asDiscovery(result: unknown): DiscoverResult | undefined {
  const parsed = DiscoverResultSchema.safeParse(result);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The `initialize` result a 2025-11-25 caller expects, from a discovery. It names the version
 * the caller asked for, so code (or a proxied client) that checks it goes on working;
 * `Connection.era` and `protocolVersion` say what is spoken.
 */
function initializeAnswer(initialize: JsonRpcRequest, discovery: DiscoverResult): JsonRpcResponse {
  const serverInfo = discovery._meta?.[MetaKey.SERVER_INFO];
  const asked = (initialize.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  const result: Record<string, unknown> = {
    protocolVersion: typeof asked === 'string' ? asked : MODERN_PROTOCOL_VERSION,
    capabilities: discovery.capabilities,
    serverInfo: serverInfo ?? { name: 'unknown', version: 'unknown' },
  };
  if (discovery.instructions !== undefined) result.instructions = discovery.instructions;
  return { jsonrpc: '2.0', id: initialize.id, result };
}
