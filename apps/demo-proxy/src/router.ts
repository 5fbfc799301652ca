import { randomUUID } from 'node:crypto';
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
  sink,
} from './http-types.ts';
import { sendEmpty, sendJson, sendRejection } from './replies.ts';
import { checkHostHeader, checkRebinding } from './validate.ts';

const MCP_PATH = /^\/([^/]+)\/mcp\/?$/;
/** A client's `x-request-id` is kept (for tracing across hops) when it looks like an id. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The proxy's request listener, for both the HTTP/1.1 and the HTTP/2 server. */
export function createRouter(ctx: ProxyContext) {
  const upstreams = new Map(ctx.config.upstreams.map((u) => [u.name, u]));

  return function route(req: DownstreamRequest, response: DownstreamResponse): void {
    const res = sink(response);
    const given = header(req.headers, 'x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    // A child logger costs a serialization per request: only where something will be logged.
    const log = ctx.logger.isLevelEnabled('warn') ? ctx.logger.child({ requestId }) : ctx.logger;
    const started = performance.now();
    response.once('finish', () => {
      ctx.metrics.httpResponses.inc({ status: String(res.statusCode) });
      if (!log.isLevelEnabled('debug')) return;
      log.debug(
        {
          method: req.method,
          url: req.url,
          status: res.statusCode,
          client: ctx.clientAddress(req),
          ms: Math.round(performance.now() - started),
        },
        'request done',
      );
    });

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
      handleModern(ctx, upstream, req, res, log).catch((err: unknown) => failed(err));
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
    Promise.resolve(handled).catch(failed);

    function failed(err: unknown): void {
      // A client that left mid-request is no server error: no stack, not at error level.
      if (clientGone(res)) log.debug({ reason: String(err) }, 'client went away');
      else log.error({ err }, 'request handler failed');
      if (!res.headersSent)
        sendRejection(res, { status: 500, message: 'Internal Server Error', rpcCode: -32603 });
      else if (!res.writableEnded) res.end();
    }
  };
}
