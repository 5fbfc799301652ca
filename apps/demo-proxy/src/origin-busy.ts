import { OriginBusyError } from '@mcp/connection-core';
import type { ProxyContext } from './context.ts';
import type { Logger } from './logger.ts';
import type { ProxySession } from './session-registry.ts';
import type { Rejection } from './validate.ts';

/** Seconds a client is told to wait when an upstream origin's pool budget ran out. */
const RETRY_AFTER_SECONDS = '1';

/**
 * When `err` says the pool's budget for the session's origin ran out (OriginBusyError): counts
 * it, logs a warning naming the origin and the limit, and returns the 503 (Retry-After, JSON-RPC
 * error body) to answer with. Otherwise undefined.
 */
export function originBusyRejection(
  ctx: ProxyContext,
  session: ProxySession,
  err: unknown,
  log: Logger,
): Rejection | undefined {
  if (!(err instanceof OriginBusyError)) return undefined;
  const upstream = session.upstream.name;
  ctx.metrics.upstreamBusy.inc({ upstream, limit: err.limitName, reason: err.reason });
  log.warn(
    {
      upstream,
      origin: err.origin,
      limit: err.limitName,
      limitValue: err.limit,
      reason: err.reason,
      waitedMs: err.waitedMs,
    },
    'upstream origin busy: pool budget exhausted',
  );
  return {
    status: 503,
    message: `Service Unavailable: upstream busy (${err.limitName} = ${err.limit})`,
    rpcCode: -32603,
    headers: { 'retry-after': RETRY_AFTER_SECONDS },
  };
}
