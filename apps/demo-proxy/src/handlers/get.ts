import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { openEventStream } from '../event-stream.ts';
import { clientGone, type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendRejection } from '../replies.ts';
import { checkStreamTakeover, identify, replayFrom } from '../session-access.ts';
import { acceptedFormats, checkAccept } from '../validate.ts';
import { SESSION_HEADER } from './common.ts';

/**
 * GET /<upstream>/mcp: the session's stream of server-initiated messages. With Last-Event-ID,
 * the buffered events after it are sent first (to the session's own client). A bound session's
 * new GET replaces its previous one; an anonymous session's open stream cannot be taken (409).
 * The 200 goes out once the upstream answered its own GET: a 404 there is a 404 here.
 */
export async function handleGet(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  res: ResponseSink,
  log: Logger,
): Promise<void> {
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
  const client = identify(ctx, req);
  const session = await ctx.store.find(ctx, upstream, sessionId, req, log);
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
  const takeover = checkStreamTakeover(ctx, session, client, log);
  if (takeover) {
    sendRejection(res, takeover);
    return;
  }
  const lastEventId = replayFrom(ctx, session, client, header(req.headers, 'last-event-id'), log);
  const { upstreamLastEventId } = ctx.store.resumePoint(session, lastEventId);
  // The upstream answers first: a session it no longer knows gets 404 here too, not a stream
  // that would carry nothing.
  const opened = await session.upstreamStream.clientOpened(upstreamLastEventId);
  // (An anonymous session's stream may have been taken while the upstream answered.)
  const refusal =
    opened.answer === 'session-expired'
      ? { status: 404, message: 'Session not found' }
      : checkStreamTakeover(ctx, session, client, log);
  if (refusal || clientGone(res)) {
    if (!session.streaming) session.upstreamStream.clientClosed();
    if (refusal) sendRejection(res, refusal);
    // It went away with its stream before the stream was opened: it left all the same.
    else if (!session.streaming) session.streamClosedAt = performance.now();
    return;
  }

  session.serverStream?.end();
  // Taken now: what arrived while the upstream answered is in it.
  const { replay } = ctx.store.resumePoint(session, lastEventId);
  const stream = openEventStream(
    res,
    { [SESSION_HEADER]: ctx.store.currentId(ctx, session) },
    ctx.config.limits.keepAliveMs,
  );
  if (replay.length === 0) stream.prime(session.events.lastId);
  for (const event of replay) {
    stream.send(event.message, event.id);
    session.events.delivered(event);
  }
  if (replay.length > 0) log.debug({ replayed: replay.length }, 'resumed server stream');
  session.serverStream = stream;
  res.once('close', () => {
    if (session.serverStream !== stream) return; // replaced by a newer GET
    session.serverStream = undefined;
    session.streamClosedAt = performance.now();
    session.upstreamStream.clientClosed();
  });
  // The upstream session ended under the stream: so does the client's stream, and its
  // reconnection learns why (404, or a renewed session).
  opened.ended.then(
    (end) => {
      if (end === 'session-expired' && session.serverStream === stream) stream.end();
    },
    () => {},
  );
}
