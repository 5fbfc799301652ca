import {
  InvalidMessageError,
  isJsonRpcNotification,
  isJsonRpcRequest,
  JsonRpcErrorCode,
  type JsonRpcMessage,
  parseMessage,
  SessionExpiredError,
  SessionLimitError,
} from '@mcp/connection-core';
import { RelayAbort } from '../abort-reasons.ts';
import { BodyTimeoutError, BodyTooLargeError, ClientGoneError, readBody } from '../body.ts';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { clientGone, type DownstreamRequest, header, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { pumpServerMessages, relayRequest } from '../relay.ts';
import { sendEmpty, sendRejection } from '../replies.ts';
import type { ProxySession } from '../session-registry.ts';
import { acceptedFormats, checkAccept, checkContentType } from '../validate.ts';
import {
  SESSION_HEADER,
  type SessionCredentials,
  updateCredentials,
  upstreamHeaders,
} from './common.ts';

/** POST /<upstream>/mcp: one JSON-RPC message from the client. */
export async function handlePost(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  res: ResponseSink,
  log: Logger,
): Promise<void> {
  const formats = acceptedFormats(header(req.headers, 'accept'));
  const early =
    checkContentType(header(req.headers, 'content-type')) ?? checkAccept(formats, 'POST');
  if (early) return sendRejection(res, early);

  let message: JsonRpcMessage;
  try {
    const { limits, edge } = ctx.config;
    message = parseMessage(await readBody(req, limits.maxBodyBytes, edge.bodyTimeoutMs));
  } catch (err) {
    if (err instanceof ClientGoneError) {
      log.debug('client went away while sending its body');
      return;
    }
    if (err instanceof BodyTimeoutError) {
      ctx.onEdgeLimit('body_timeout');
      return sendRejection(res, {
        status: 408,
        message: `Request Timeout: body not complete within ${err.timeoutMs} ms`,
        headers: { connection: 'close' },
      });
    }
    if (err instanceof BodyTooLargeError) {
      return sendRejection(res, {
        status: 413,
        message: `Payload Too Large: limit is ${err.limit} bytes`,
        headers: { connection: 'close' },
      });
    }
    if (err instanceof InvalidMessageError) {
      const parse = err.issue === 'not-json' || err.issue === 'not-utf8';
      return sendRejection(res, {
        status: 400,
        message: parse ? 'Parse error: body is not valid JSON' : `Invalid Request: ${err.message}`,
        rpcCode: parse ? JsonRpcErrorCode.PARSE_ERROR : JsonRpcErrorCode.INVALID_REQUEST,
      });
    }
    throw err;
  }

  // A client that reset its stream while we read its body gets nothing sent upstream.
  if (clientGone(res)) return;
  const sessionId = header(req.headers, SESSION_HEADER);
  const isInitialize = isJsonRpcRequest(message) && message.method === 'initialize';
  const requestId = isJsonRpcRequest(message) ? message.id : null;
  let session: ProxySession | undefined;
  if (sessionId === undefined) {
    if (!isInitialize) {
      return sendRejection(
        res,
        {
          status: 400,
          message: 'Bad Request: Mcp-Session-Id header is required',
          rpcCode: JsonRpcErrorCode.INVALID_REQUEST,
        },
        requestId,
      );
    }
    if (ctx.load.draining) {
      return sendRejection(
        res,
        {
          status: 503,
          message: 'Service Unavailable: shutting down',
          headers: { 'retry-after': '5' },
        },
        requestId,
      );
    }
    if (
      ctx.sessions.full ||
      ctx.sessions.countFor(upstream) >= ctx.connector.maxSessionsPerOrigin
    ) {
      return sendRejection(
        res,
        {
          status: 503,
          message: 'Service Unavailable: too many sessions',
          headers: { 'retry-after': '5' },
        },
        requestId,
      );
    }
    const credentials: SessionCredentials = { authorization: undefined };
    updateCredentials(credentials, req);
    const headers = upstreamHeaders(upstream, credentials);
    try {
      session = await ctx.sessions.create(upstream, credentials, (id) =>
        ctx.connector.connect(upstream, id, headers),
      );
    } catch (err) {
      if (err instanceof SessionLimitError) {
        return sendRejection(
          res,
          {
            status: 503,
            message: 'Service Unavailable: upstream session limit',
            headers: { 'retry-after': '5' },
          },
          requestId,
        );
      }
      log.warn({ err, upstream: upstream.name }, 'could not open an upstream session');
      return sendRejection(
        res,
        {
          status: 502,
          message: 'Bad Gateway: upstream unavailable',
          rpcCode: JsonRpcErrorCode.INTERNAL_ERROR,
        },
        requestId,
      );
    }
  } else {
    session = ctx.sessions.get(sessionId, upstream.name);
    if (!session)
      return sendRejection(res, { status: 404, message: 'Session not found' }, requestId);
    updateCredentials(session.credentials, req);
    if (isInitialize) {
      return sendRejection(
        res,
        {
          status: 400,
          message: 'Bad Request: session is already initialized',
          rpcCode: JsonRpcErrorCode.INVALID_REQUEST,
        },
        requestId,
      );
    }
  }
  const headers = { [SESSION_HEADER]: session.id };

  if (isJsonRpcRequest(message)) {
    if (ctx.load.inFlight >= ctx.config.limits.maxConcurrentRequests || ctx.load.draining) {
      if (isInitialize) await ctx.sessions.remove(session);
      return sendRejection(
        res,
        {
          status: 503,
          message: 'Service Unavailable: too many requests in flight',
          headers: { 'retry-after': '1' },
        },
        message.id,
      );
    }
    if (session.inFlight.size >= ctx.config.limits.maxConcurrentRequestsPerSession) {
      return sendRejection(
        res,
        {
          status: 429,
          message: 'Too Many Requests: session concurrency limit',
          headers: { 'retry-after': '1' },
        },
        message.id,
      );
    }
    if (session.inFlight.has(message.id)) {
      return sendRejection(
        res,
        {
          status: 400,
          message: 'Bad Request: a request with this id is in flight',
          rpcCode: JsonRpcErrorCode.INVALID_REQUEST,
        },
        message.id,
      );
    }
    ctx.load.enter();
    let outcome: Awaited<ReturnType<typeof relayRequest>>;
    try {
      outcome = await relayRequest({ ctx, session, request: message, res, formats, headers, log });
    } finally {
      ctx.load.leave();
    }
    if (isInitialize) {
      if (outcome === 'ok') {
        session.initialized = true;
        log.info({ upstream: upstream.name }, 'session started');
        const started = session;
        pumpServerMessages(ctx, started)
          .then(
            () => ctx.sessions.remove(started),
            (err: unknown) => {
              log.debug({ err }, 'server message stream ended');
              return ctx.sessions.remove(started);
            },
          )
          .catch(() => {});
      } else {
        await ctx.sessions.remove(session);
      }
    } else if (outcome === 'session_expired') {
      log.info({ upstream: upstream.name }, 'upstream session expired; ending downstream session');
      await ctx.sessions.remove(session);
    }
    return;
  }

  // A notification or a response (the client's answer to a server-to-client request).
  try {
    if (isJsonRpcNotification(message)) {
      const cancelled = cancelledRequestId(message);
      const controller = cancelled === undefined ? undefined : session.inFlight.get(cancelled);
      // Aborting the upstream request sends notifications/cancelled upstream itself.
      if (controller) controller.abort(new RelayAbort('client-cancelled'));
      else await session.connection.notify(message);
    } else {
      await session.connection.respond(message);
    }
  } catch (err) {
    if (err instanceof SessionExpiredError) {
      await ctx.sessions.remove(session);
      return sendRejection(res, { status: 404, message: 'Session not found' });
    }
    log.warn({ err }, 'upstream rejected a notification or response');
    return sendRejection(res, {
      status: 502,
      message: 'Bad Gateway: upstream did not accept the message',
      rpcCode: JsonRpcErrorCode.INTERNAL_ERROR,
    });
  }
  sendEmpty(res, 202, headers);
}

function cancelledRequestId(message: JsonRpcMessage): string | number | undefined {
  if (!('method' in message) || message.method !== 'notifications/cancelled') return undefined;
  const params = message.params as { requestId?: unknown } | undefined;
  const id = params?.requestId;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
