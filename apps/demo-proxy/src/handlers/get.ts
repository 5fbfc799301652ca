import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { openEventStream } from '../event-stream.ts';
import { type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendRejection } from '../replies.ts';
import { acceptedFormats, checkAccept } from '../validate.ts';
import { SESSION_HEADER } from './common.ts';

/**
 * GET /<upstream>/mcp: the session's stream of server-initiated messages. With Last-Event-ID,
 * the buffered events after it are sent first. A new GET replaces the session's previous one.
 */
export function handleGet(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  res: ResponseSink,
  log: Logger,
): void {
  const rejection = checkAccept(acceptedFormats(header(req.headers, 'accept')), 'GET');
  if (rejection) {
    sendRejection(res, rejection);
    return;
  }
  const sessionId = header(req.headers, SESSION_HEADER);
  if (sessionId === undefined) {
    sendRejection(res, {
      status: 400,
      message: 'Bad Request: Mcp-Session-Id header is required',
    });
    return;
  }
  const session = ctx.sessions.get(sessionId, upstream.name);
  if (!session) {
    sendRejection(res, { status: 404, message: 'Session not found' });
    return;
  }
  if (ctx.load.draining) {
    sendRejection(res, {
      status: 503,
      message: 'Service Unavailable: shutting down',
      headers: { 'retry-after': '5' },
    });
    return;
  }

  session.serverStream?.end();
  const stream = openEventStream(
    res,
    { [SESSION_HEADER]: session.id },
    ctx.config.limits.keepAliveMs,
  );
  const replay = session.events.after(header(req.headers, 'last-event-id'));
  if (replay.length === 0) stream.prime(session.events.lastId);
  for (const event of replay) stream.send(event.message, event.id);
  if (replay.length > 0) log.debug({ replayed: replay.length }, 'resumed server stream');
  session.serverStream = stream;
  session.upstreamStream.clientOpened();
  res.once('close', () => {
    if (session.serverStream !== stream) return; // replaced by a newer GET
    session.serverStream = undefined;
    session.upstreamStream.clientClosed();
  });
}
