import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendEmpty, sendRejection } from '../replies.ts';
import { findClientSession, identify } from '../session-access.ts';
import { SESSION_HEADER } from './common.ts';

/** DELETE /<upstream>/mcp: ends the downstream session and its upstream session. */
export async function handleDelete(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  res: ResponseSink,
  log: Logger,
): Promise<void> {
  const sessionId = header(req.headers, SESSION_HEADER);
  if (sessionId === undefined) {
    return sendRejection(res, {
      status: 400,
      message: 'Bad Request: Mcp-Session-Id header is required',
    });
  }
  const session = findClientSession(ctx, upstream, sessionId, identify(ctx, req), log);
  if (!session) return sendRejection(res, { status: 404, message: 'Session not found' });
  try {
    await ctx.sessions.remove(session);
  } catch (err) {
    log.warn({ err }, 'upstream session did not end cleanly');
  }
  log.info({ upstream: upstream.name }, 'session ended by the client');
  sendEmpty(res, 200);
}
