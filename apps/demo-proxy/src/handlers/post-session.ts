import {
  isJsonRpcRequest,
  JsonRpcErrorCode,
  type JsonRpcMessage,
  SessionLimitError,
} from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { type DownstreamRequest, header } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { checkClientQuota, identify } from '../session-access.ts';
import type { ClientIdentity } from '../session-binding.ts';
import type { ProxySession } from '../session-registry.ts';
import type { Rejection } from '../validate.ts';
import {
  SESSION_HEADER,
  type SessionCredentials,
  updateCredentials,
  upstreamHeaders,
} from './common.ts';
import { rejected, type Step } from './post-admission.ts';

const SERVICE_BUSY: Record<string, string> = { 'retry-after': '5' };

/**
 * Session lookup or creation: a message with an Mcp-Session-Id belongs to that live session,
 * when it comes from the session's own client; one without it must be `initialize`, which opens
 * a new session (and its upstream one) within the client's quota.
 */
export function findOrOpenSession(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  message: JsonRpcMessage,
  log: Logger,
): Promise<Step<ProxySession>> | Step<ProxySession> {
  const isInitialize = isJsonRpcRequest(message) && message.method === 'initialize';
  const sessionId = header(req.headers, SESSION_HEADER);
  const client = identify(ctx, req);
  if (sessionId !== undefined) {
    return findSession(ctx, upstream, req, { sessionId, isInitialize }, log);
  }
  if (!isInitialize) {
    return rejected({
      status: 400,
      message: 'Bad Request: Mcp-Session-Id header is required',
      rpcCode: JsonRpcErrorCode.INVALID_REQUEST,
    });
  }
  const refusal = refuseNewSession(ctx, upstream) ?? checkClientQuota(ctx, client, log);
  if (refusal) return rejected(refusal);
  return openSession(ctx, upstream, req, client, log);
}

function findSession(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  named: { sessionId: string; isInitialize: boolean },
  log: Logger,
): Promise<Step<ProxySession>> | Step<ProxySession> {
  const found = ctx.store.find(ctx, upstream, named.sessionId, req, log);
  // In-memory sessions are found at once: no promise on the hot path.
  if (found instanceof Promise) return found.then((session) => foundSession(session, req, named));
  return foundSession(found, req, named);
}

function foundSession(
  session: ProxySession | undefined,
  req: DownstreamRequest,
  named: { isInitialize: boolean },
): Step<ProxySession> {
  if (!session) return rejected({ status: 404, message: 'Session not found' });
  updateCredentials(session.credentials, req);
  if (named.isInitialize) {
    return rejected({
      status: 400,
      message: 'Bad Request: session is already initialized',
      rpcCode: JsonRpcErrorCode.INVALID_REQUEST,
    });
  }
  return { ok: true, value: session };
}

/** Why the proxy takes no new session now: draining, or at a session limit. */
function refuseNewSession(ctx: ProxyContext, upstream: UpstreamConfig): Rejection | undefined {
  if (ctx.load.draining) {
    return { status: 503, message: 'Service Unavailable: shutting down', headers: SERVICE_BUSY };
  }
  if (ctx.sessions.full || ctx.sessions.countFor(upstream) >= ctx.connector.maxSessionsPerOrigin) {
    return {
      status: 503,
      message: 'Service Unavailable: too many sessions',
      headers: SERVICE_BUSY,
    };
  }
  return undefined;
}

async function openSession(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  client: ClientIdentity,
  log: Logger,
): Promise<Step<ProxySession>> {
  const credentials: SessionCredentials = { authorization: undefined };
  updateCredentials(credentials, req);
  const headers = upstreamHeaders(upstream, credentials);
  try {
    const session = await ctx.sessions.create(upstream, client, credentials, (id) =>
      ctx.connector.connect(upstream, id, headers),
    );
    return { ok: true, value: session };
  } catch (err) {
    if (err instanceof SessionLimitError) {
      return rejected({
        status: 503,
        message: 'Service Unavailable: upstream session limit',
        headers: SERVICE_BUSY,
      });
    }
    log.warn({ err, upstream: upstream.name }, 'could not open an upstream session');
    return rejected({
      status: 502,
      message: 'Bad Gateway: upstream unavailable',
      rpcCode: JsonRpcErrorCode.INTERNAL_ERROR,
    });
  }
}
