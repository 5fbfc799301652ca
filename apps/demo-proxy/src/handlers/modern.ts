import {
  envelopeOf,
  HEADER_MISMATCH_CODE,
  isJsonRpcRequest,
  isModernProtocolVersion,
  JsonRpcErrorCode,
  type JsonRpcErrorResponse,
  type JsonRpcMessage,
  type JsonRpcRequest,
  jsonRpcError,
  MetaKey,
  MODERN_PROTOCOL_VERSION,
  RequestMetaEnvelopeSchema,
  StandardHeader,
  SUPPORTED_PROTOCOL_VERSIONS,
  standardHeaderMismatch,
  UNSUPPORTED_PROTOCOL_VERSION_CODE,
} from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { bridgeToLegacy } from '../era/legacy-upstream-bridge.ts';
import { type ModernExchange, relayModern } from '../era/modern-relay.ts';
import { statelessConnection } from '../era/modern-upstreams.ts';
import { clientGone, type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendEmpty, sendJson, sendRejection } from '../replies.ts';
import { identify } from '../session-access.ts';
import type { Rejection } from '../validate.ts';
import { ownHeaders } from './common.ts';
import { admitMessage } from './post-admission.ts';

/**
 * True when the request says it is of the 2026-07-28 era (its MCP-Protocol-Version), or names a
 * version of neither era: the modern path answers that with the supported versions (-32022).
 */
export function isModernRequest(req: DownstreamRequest): boolean {
  const version = header(req.headers, StandardHeader.PROTOCOL_VERSION);
  if (version === undefined) return false;
  return isModernProtocolVersion(version) || !LEGACY_VERSIONS.includes(version);
}

const LEGACY_VERSIONS: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS;
/** The stateless revisions this proxy speaks (what `server/discover` offers through it). */
const SUPPORTED: readonly string[] = [MODERN_PROTOCOL_VERSION];

/** The header and the body's envelope name different versions: -32020, before anything else. */
function versionMismatch(req: DownstreamRequest, request: JsonRpcRequest): Rejection | undefined {
  const claimed = envelopeOf(request)?.[MetaKey.PROTOCOL_VERSION];
  const named = header(req.headers, StandardHeader.PROTOCOL_VERSION);
  if (claimed === undefined || named === undefined || claimed === named) return undefined;
  return {
    status: 400,
    message: `Header mismatch: MCP-Protocol-Version ${JSON.stringify(named)}, _meta ${JSON.stringify(claimed)}`,
    rpcCode: HEADER_MISMATCH_CODE,
  };
}

/**
 * A 2026-07-28 request: no session, no state kept here. Admission as for any POST, then the
 * era's own checks (a supported version, a valid `_meta` envelope, headers that match the
 * body: 400 otherwise), then straight to an upstream that speaks the era, or through the
 * bridge to one that speaks only 2025-11-25.
 */
export async function handleModern(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  res: ResponseSink,
  log: Logger,
): Promise<void> {
  if (req.method !== 'POST') {
    return sendRejection(res, {
      status: 405,
      message: 'Method Not Allowed: the 2026-07-28 era is POST only',
      headers: { allow: 'POST' },
    });
  }
  const admitted = await admitMessage(ctx, req);
  if (!admitted.ok) return sendRejection(res, admitted.rejection);
  const { message, formats } = admitted.value;
  if (clientGone(res)) return;
  const own = ownHeaders(upstream, req);
  if (!isJsonRpcRequest(message)) {
    // Notifications and responses have no use in a stateless exchange: accepted, not relayed.
    return sendEmpty(res, 202);
  }
  const versions = versionMismatch(req, message);
  if (versions) return sendRejection(res, versions, message.id);
  const unsupported = unsupportedVersion(req, message);
  if (unsupported) return sendJson(res, 400, unsupported);
  const rejection = checkModern(req, message);
  if (rejection) return sendRejection(res, rejection, message.id);
  const envelope = envelopeOf(message) as Record<string, unknown>;
  if (upstream.era === '2025-11-25') {
    const client = identify(ctx, req);
    const bridge = { upstream, client, request: message, envelope, formats, res, own, log };
    return bridgeToLegacy(ctx, bridge);
  }
  let connection: Awaited<ReturnType<typeof statelessConnection>>;
  try {
    connection = await statelessConnection(ctx, upstream);
  } catch (err) {
    log.warn({ err, upstream: upstream.name }, 'could not reach the upstream');
    const unavailable = {
      status: 502,
      message: 'Bad Gateway: upstream unavailable',
      rpcCode: -32603,
    };
    return sendRejection(res, unavailable, message.id);
  }
  const send: ModernExchange['send'] = (request, options) => connection.request(request, options);
  return relayModern(ctx, { upstream, send, request: message, formats, res, own, log });
}

/**
 * A version this proxy does not speak, named by the envelope (or, without one, the header):
 * UnsupportedProtocolVersionError, with the versions it does speak and the one asked for.
 */
function unsupportedVersion(
  req: DownstreamRequest,
  request: JsonRpcRequest,
): JsonRpcErrorResponse | undefined {
  const claimed = envelopeOf(request)?.[MetaKey.PROTOCOL_VERSION];
  const requested = claimed ?? header(req.headers, StandardHeader.PROTOCOL_VERSION);
  if (typeof requested !== 'string' || SUPPORTED.includes(requested)) return undefined;
  const message = `Unsupported protocol version ${JSON.stringify(requested)}`;
  const data = { supported: SUPPORTED, requested };
  return jsonRpcError(request.id, UNSUPPORTED_PROTOCOL_VERSION_CODE, message, data);
}

/**
 * For the 2025-11-25 path: a body claiming 2026-07-28 (its `_meta` envelope) whose
 * MCP-Protocol-Version header does not say so is a header mismatch (400, -32020).
 */
export function modernBodyWithoutHeader(message: JsonRpcMessage): Rejection | undefined {
  if (!isJsonRpcRequest(message)) return undefined;
  const claimed = envelopeOf(message)?.[MetaKey.PROTOCOL_VERSION];
  if (typeof claimed !== 'string' || !isModernProtocolVersion(claimed)) return undefined;
  return {
    status: 400,
    message: `Header mismatch: the body's _meta claims ${claimed}, MCP-Protocol-Version does not`,
    rpcCode: HEADER_MISMATCH_CODE,
  };
}

/** The era's checks, in the SDK's order: envelope, then standard headers vs body. */
function checkModern(req: DownstreamRequest, request: JsonRpcRequest): Rejection | undefined {
  const envelope = envelopeOf(request);
  if (envelope === undefined || !RequestMetaEnvelopeSchema.safeParse(envelope).success) {
    return {
      status: 400,
      message: 'Invalid params: a 2026-07-28 request needs the _meta envelope',
      rpcCode: JsonRpcErrorCode.INVALID_PARAMS,
    };
  }
  const mismatch = standardHeaderMismatch(
    {
      protocolVersion: header(req.headers, StandardHeader.PROTOCOL_VERSION),
      method: header(req.headers, StandardHeader.METHOD),
      name: header(req.headers, StandardHeader.NAME),
    },
    request,
  );
  if (mismatch === undefined) return undefined;
  return { status: 400, message: `Header mismatch: ${mismatch}`, rpcCode: HEADER_MISMATCH_CODE };
}
