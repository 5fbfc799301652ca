/**
 * The handlers' side of session binding: who a request comes from, which session it may use,
 * whether it may open another session, take the GET stream, or have events replayed.
 */
import type { UpstreamConfig } from './config.ts';
import type { ProxyContext } from './context.ts';
import type { DownstreamRequest } from './http-types.ts';
import type { Logger } from './logger.ts';
import { type ClientIdentity, clientIdentity, sameCredentials } from './session-binding.ts';
import type { ProxySession } from './session-registry.ts';
import type { Rejection } from './validate.ts';

/** Retry-After of a client at its session quota: sessions free up when they end or idle out. */
const QUOTA_RETRY_AFTER_S = '30';

export type RejectionReason = 'client_quota' | 'credentials' | 'stream_open' | 'replay_refused';

/** The identity of `req` (by the configured binding header, else its address). */
export function identify(ctx: ProxyContext, req: DownstreamRequest): ClientIdentity {
  return clientIdentity(req, ctx.config.sessions.bindingHeader, ctx.clientAddress(req));
}

/**
 * The session `sessionId` names, when `client` may use it. A session created with other
 * credentials (or with none, when the request has some) is answered as unknown: the caller
 * sends 404, so a stolen id without its credentials learns nothing.
 */
export function findClientSession(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  sessionId: string,
  client: ClientIdentity,
  log: Logger,
): ProxySession | undefined {
  const session = ctx.sessions.peek(sessionId, upstream.name);
  if (!session) return undefined;
  if (!sameCredentials(session.owner, client)) {
    refused(ctx, log, 'credentials', client, 'session id used with other credentials');
    return undefined;
  }
  ctx.sessions.touch(session);
  return session;
}

/** 429 when `client` already holds as many sessions as one client may. */
export function checkClientQuota(
  ctx: ProxyContext,
  client: ClientIdentity,
  log: Logger,
): Rejection | undefined {
  if (!ctx.sessions.atClientLimit(client)) return undefined;
  const reclaimed = ctx.sessions.reclaimLeftBy(client);
  if (reclaimed !== undefined) {
    ctx.metrics.sessionsReclaimed.inc({ upstream: reclaimed.upstream.name });
    log.info(
      { client: client.key, upstream: reclaimed.upstream.name },
      'client at its session quota: ended the least recently used session it had left',
    );
    return undefined;
  }
  refused(ctx, log, 'client_quota', client, 'client is at its session quota');
  return {
    status: 429,
    message: `Too Many Requests: ${ctx.config.sessions.maxSessionsPerClient} sessions per client`,
    headers: { 'retry-after': QUOTA_RETRY_AFTER_S },
  };
}

/**
 * 409 for a GET on a session created without credentials while its stream is open: nothing
 * tells its client from another, so the stream stays with whoever opened it (as the official SDK
 * servers answer a second GET). A bound session's owner may replace its own stream.
 */
export function checkStreamTakeover(
  ctx: ProxyContext,
  session: ProxySession,
  client: ClientIdentity,
  log: Logger,
): Rejection | undefined {
  if (session.owner.credentials !== undefined || !session.streaming) return undefined;
  refused(ctx, log, 'stream_open', client, 'second GET stream refused');
  return { status: 409, message: 'Conflict: the session already has an open stream' };
}

/**
 * The Last-Event-ID to replay from, when the request may see the session's past events: a
 * bound session's requests all carry its credentials; an anonymous session replays only to the
 * address that created it.
 */
export function replayFrom(
  ctx: ProxyContext,
  session: ProxySession,
  client: ClientIdentity,
  lastEventId: string | undefined,
  log: Logger,
): string | undefined {
  if (lastEventId === undefined) return undefined;
  if (session.owner.credentials !== undefined || session.owner.address === client.address)
    return lastEventId;
  refused(ctx, log, 'replay_refused', client, 'Last-Event-ID from another address not replayed');
  return undefined;
}

export function refused(
  ctx: ProxyContext,
  log: Logger,
  reason: RejectionReason,
  client: ClientIdentity,
  message: string,
): void {
  ctx.metrics.sessionRejections.inc({ reason });
  log.warn({ reason, client: client.key }, message);
}
