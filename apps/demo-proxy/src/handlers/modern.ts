import {
  envelopeOf,
  HEADER_MISMATCH_CODE,
  isJsonRpcRequest,
  isModernProtocolVersion,
  JsonRpcErrorCode,
  type JsonRpcRequest,
  MetaKey,
  MODERN_PROTOCOL_VERSION,
  RequestMetaEnvelopeSchema,
  StandardHeader,
  standardHeaderMismatch,
  UNSUPPORTED_PROTOCOL_VERSION_CODE,
} from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { bridgeToLegacy } from '../era/legacy-upstream-bridge.ts';
import { relayModern } from '../era/modern-relay.ts';
import { statelessConnection } from '../era/modern-upstreams.ts';
import { clientGone, type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendEmpty, sendRejection } from '../replies.ts';
import { identify } from '../session-access.ts';
import type { Rejection } from '../validate.ts';
import { ownHeaders } from './common.ts';
import { admitMessage } from './post-admission.ts';

/** True when the request says it is of the 2026-07-28 era (its MCP-Protocol-Version). */
export function isModernRequest(req: DownstreamRequest): boolean {
  const version = header(req.headers, StandardHeader.PROTOCOL_VERSION);
  return version !== undefined && isModernProtocolVersion(version);
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
  return relayModern(ctx, { upstream, connection, request: message, formats, res, own, log });
}

/** The era's checks, in the SDK's order: version, envelope, standard headers vs body. */
function checkModern(req: DownstreamRequest, request: JsonRpcRequest): Rejection | undefined {
  const envelope = envelopeOf(request);
  const claimed = envelope?.[MetaKey.PROTOCOL_VERSION];
  if (claimed !== undefined && claimed !== MODERN_PROTOCOL_VERSION) {
    return {
      status: 400,
      message: `Unsupported protocol version ${JSON.stringify(claimed)} (supported: ${MODERN_PROTOCOL_VERSION})`,
      rpcCode: UNSUPPORTED_PROTOCOL_VERSION_CODE,
    };
  }
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
