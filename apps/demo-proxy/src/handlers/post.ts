import {
  isJsonRpcNotification,
  isJsonRpcRequest,
  JsonRpcErrorCode,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcResponse,
  SessionExpiredError,
} from '@mcp/connection-core';
import { RelayAbort } from '../abort-reasons.ts';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { clientGone, type DownstreamRequest, type ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import type { RequestOutcome } from '../metrics.ts';
import { originBusyRejection } from '../origin-busy.ts';
import { RequestRelay } from '../relay.ts';
import { sendEmpty, sendRejection } from '../replies.ts';
import type { ProxySession } from '../session-registry.ts';
import { followServerMessages } from '../session-store.ts';
import { ownHeaders, SESSION_HEADER } from './common.ts';
import { modernBodyWithoutHeader } from './modern.ts';
import { admitMessage, admitRequest } from './post-admission.ts';
import { findOrOpenSession } from './post-session.ts';

/**
 * POST /<upstream>/mcp: one JSON-RPC message from the client, in four steps: admission (headers,
 * size, a valid message), session lookup or creation, relay upstream, and routing of the answer
 * (a request's answer to its POST; what the answer means for the session). A relayed request
 * waits for its upstream answer in one small async frame (`relayAndRoute`): the steps around
 * the upstream request are synchronous.
 */
export async function handlePost(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: DownstreamRequest,
  res: ResponseSink,
  log: Logger,
): Promise<void> {
  const admitted = await admitMessage(ctx, req);
  if (!admitted.ok) return sendRejection(res, admitted.rejection);
  const { message, formats } = admitted.value;
  const eraMismatch = modernBodyWithoutHeader(message);
  if (eraMismatch) return sendRejection(res, eraMismatch, requestIdOf(message));
  // A client that reset its stream while we read its body gets nothing sent upstream.
  if (clientGone(res)) return;
  let found = findOrOpenSession(ctx, upstream, req, message, log);
  if (found instanceof Promise) found = await found;
  if (!found.ok) return sendRejection(res, found.rejection, requestIdOf(message));
  const session = found.value;
  const own = ownHeaders(upstream, req);
  if (!isJsonRpcRequest(message)) return forwardOneWay(ctx, session, { message, own }, res, log);

  const rejection = admitRequest(ctx, session, message);
  if (rejection) return sendRejection(res, rejection, message.id);
  const relay = new RequestRelay({
    ctx,
    session,
    request: message,
    res,
    formats,
    upstreamHeaders: own,
    log,
  });
  // This frame ends here; the request waits in the smaller one below, which keeps its method
  // but not the parsed request.
  return relayAndRoute(relay, relay.send(message), ctx, session, message.method, log);
}

/** The one async frame a relayed request waits in, for its upstream answer. */
async function relayAndRoute(
  relay: RequestRelay,
  answer: Promise<JsonRpcResponse>,
  ctx: ProxyContext,
  session: ProxySession,
  method: string,
  log: Logger,
): Promise<void> {
  let outcome: RequestOutcome;
  try {
    outcome = relay.answered(await answer);
  } catch (err) {
    outcome = relay.failed(err);
  }
  relay.finish(outcome);
  const routed = routeOutcome(ctx, session, method, outcome, log);
  if (routed) await routed;
}

function requestIdOf(message: JsonRpcMessage) {
  return isJsonRpcRequest(message) ? message.id : null;
}

/**
 * What a request's outcome means for the session: an answered `initialize` starts it (the
 * server's own messages are pumped from then on), a failed one ends it; an upstream session
 * that expired ends the downstream one. A promise only when the session is being removed.
 */
function routeOutcome(
  ctx: ProxyContext,
  session: ProxySession,
  method: string,
  outcome: RequestOutcome,
  log: Logger,
): Promise<void> | undefined {
  const upstream = session.upstream.name;
  if (method === 'initialize') {
    if (outcome !== 'ok') return ctx.sessions.remove(session);
    session.initialized = true;
    session.upstreamStream.sessionStarted();
    log.info({ upstream }, 'session started');
    followServerMessages(ctx, session, log);
    return undefined;
  }
  if (outcome === 'session_expired') {
    log.info({ upstream }, 'upstream session expired; ending downstream session');
    return ctx.sessions.remove(session);
  }
  return undefined;
}

/**
 * A notification or a response (the client's answer to a server-to-client request) goes
 * upstream as it is, except `notifications/cancelled` for a request in flight here: aborting
 * that request tells the upstream itself. 202 once the upstream accepted it.
 */
async function forwardOneWay(
  ctx: ProxyContext,
  session: ProxySession,
  oneWay: {
    message: JsonRpcNotification | JsonRpcResponse;
    own: Record<string, string> | undefined;
  },
  res: ResponseSink,
  log: Logger,
): Promise<void> {
  const { message, own } = oneWay;
  try {
    if (isJsonRpcNotification(message)) {
      const cancelled = cancelledRequestId(message);
      const controller = cancelled === undefined ? undefined : session.inFlight.get(cancelled);
      if (controller) controller.abort(new RelayAbort('client-cancelled'));
      else await session.connection.notify(message, { headers: own });
    } else {
      await session.connection.respond(message, { headers: own });
    }
  } catch (err) {
    if (err instanceof SessionExpiredError) {
      await ctx.sessions.remove(session);
      return sendRejection(res, { status: 404, message: 'Session not found' });
    }
    const busy = originBusyRejection(ctx, session, err, log);
    if (busy) return sendRejection(res, busy);
    log.warn({ err }, 'upstream rejected a notification or response');
    return sendRejection(res, {
      status: 502,
      message: 'Bad Gateway: upstream did not accept the message',
      rpcCode: JsonRpcErrorCode.INTERNAL_ERROR,
    });
  }
  sendEmpty(res, 202, { [SESSION_HEADER]: ctx.store.currentId(ctx, session) });
}

function cancelledRequestId(message: JsonRpcNotification): string | number | undefined {
  if (message.method !== 'notifications/cancelled') return undefined;
  const params = message.params as { requestId?: unknown } | undefined;
  const id = params?.requestId;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
