import { randomBytes } from 'node:crypto';
import type { ProxyContext } from './context.ts';
import { checkProtocolVersion } from './handlers/common.ts';
import { handleDelete } from './handlers/delete.ts';
import { handleGet } from './handlers/get.ts';
import { handleModern, isModernRequest } from './handlers/modern.ts';
import { handlePost } from './handlers/post.ts';
import {
  clientGone,
  type DownstreamRequest,
  type DownstreamResponse,
  header,
  hostOf,
  type ResponseSink,
  sink,
} from './http-types.ts';
import type { Logger } from './logger.ts';
import { sendEmpty, sendJson, sendRejection } from './replies.ts';
import { checkHostHeader, checkRebinding } from './validate.ts';

const MCP_PATH = /^\/([^/]+)\/mcp\/?$/;
/** A client's `x-request-id` is kept (for tracing across hops) when it looks like an id. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Ids the proxy gives requests that came without one: a random prefix per process and a
 * counter (unique within the process, and across processes by the prefix), cheaper than a
 * UUID each.
 */
const REQUEST_ID_PREFIX = randomBytes(6).toString('base64url');
let requestSeq = 0;
export function nextRequestId(): string {
  requestSeq += 1;
  return `${REQUEST_ID_PREFIX}-${requestSeq.toString(36)}`;
}

/** The proxy's request listener, for both the HTTP/1.1 and the HTTP/2 server. */
export function createRouter(ctx: ProxyContext) {
  const upstreams = new Map(ctx.config.upstreams.map((u) => [u.name, u]));
  /** One 'finish' listener for every response (no closure per request). */
  const counted = function (this: DownstreamResponse): void {
    ctx.metrics.httpResponses.count(this.statusCode);
  };

  return function route(req: DownstreamRequest, response: DownstreamResponse): void {
    const res = sink(response);
    const given = header(req.headers, 'x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : nextRequestId();
    res.setHeader('x-request-id', requestId);
    // A child logger costs a serialization per request: only where something will be logged.
    const log = ctx.logger.isLevelEnabled('warn') ? ctx.logger.child({ requestId }) : ctx.logger;
    // `on`, not `once`: 'finish' comes once, and `once` wraps its listener in a closure.
    response.on('finish', counted);
    if (log.isLevelEnabled('debug')) {
      const started = performance.now();
      response.on('finish', () =>
        log.debug(
          {
            method: req.method,
            url: req.url,
            status: res.statusCode,
            client: ctx.clientAddress(req),
            ms: Math.round(performance.now() - started),
          },
          'request done',
        ),
      );
    }

    const badHost = checkHostHeader(req.httpVersionMajor, req.rawHeaders);
    if (badHost) {
      sendRejection(res, badHost);
      return;
    }
    const rebinding = checkRebinding(ctx.rebinding, hostOf(req), header(req.headers, 'origin'));
    if (rebinding) {
      log.warn(
        { host: hostOf(req), origin: header(req.headers, 'origin') },
        'rejected by the DNS rebinding guard',
      );
      sendRejection(res, rebinding);
      return;
    }

    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      if (ctx.load.draining) sendJson(res, 503, { status: 'draining' });
      else sendJson(res, 200, { status: 'ready' });
      return;
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') {
        sendEmpty(res, 405, { allow: 'GET' });
        return;
      }
      ctx.metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': ctx.metrics.contentType });
          res.end(text);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          sendEmpty(res, 500);
        },
      );
      return;
    }

    const name = MCP_PATH.exec(path)?.[1];
    const upstream = name === undefined ? undefined : upstreams.get(name);
    if (!upstream) {
      sendJson(res, 404, { error: 'Not Found' });
      return;
    }

    if (isModernRequest(req)) {
      handleModern(ctx, upstream, req, res, log).catch((err: unknown) => failed(res, log, err));
      return;
    }
    const versionRejection = checkProtocolVersion(req);
    if (versionRejection) {
      sendRejection(res, versionRejection);
      return;
    }

    let handled: Promise<void> | void;
    switch (req.method) {
      case 'POST':
        handled = handlePost(ctx, upstream, req, res, log);
        break;
      case 'GET':
        handled = handleGet(ctx, upstream, req, res, log);
        break;
      case 'DELETE':
        handled = handleDelete(ctx, upstream, req, res, log);
        break;
      default:
        sendRejection(res, {
          status: 405,
          message: 'Method Not Allowed',
          headers: { allow: 'GET, POST, DELETE' },
        });
        return;
    }
    if (handled) handled.catch((err: unknown) => failed(res, log, err));
  };
}

/** A handler that threw: logged, and answered 500 when nothing went out yet. */
function failed(res: ResponseSink, log: Logger, err: unknown): void {
  // A client that left mid-request is no server error: no stack, not at error level.
  if (clientGone(res)) log.debug({ reason: String(err) }, 'client went away');
  else log.error({ err }, 'request handler failed');
  if (!res.headersSent)
    sendRejection(res, { status: 500, message: 'Internal Server Error', rpcCode: -32603 });
  else if (!res.writableEnded) res.end();
}
