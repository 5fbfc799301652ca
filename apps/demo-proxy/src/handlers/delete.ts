import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendEmpty, sendRejection } from '../replies.ts';
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
  const session = await ctx.store.find(ctx, upstream, sessionId, req, log);
  if (!session) return sendRejection(res, { status: 404, message: 'Session not found' });
  try {
    // A sealed session another replica ended already: the upstream's 404 says so.
    if (!(await ctx.store.end(ctx, session)))
      return sendRejection(res, { status: 404, message: 'Session not found' });
  } catch (err) {
    log.warn({ err }, 'upstream session did not end cleanly');
  }
  log.info({ upstream: upstream.name }, 'session ended by the client');
  sendEmpty(res, 200);
}
