import {
  isJsonRpcErrorResponse,
  isJsonRpcNotification,
  isJsonRpcRequest,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  jsonRpcError,
  MetaKey,
  type SubscriptionFilter,
  SubscriptionFilterSchema,
} from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import { openEventStream } from '../event-stream.ts';
import { streamControlOf } from '../fallback-connection.ts';
import type { ResponseSink } from '../http-types.ts';
import { sendJson } from '../replies.ts';
import type { BridgedSession } from './bridged-sessions.ts';

/** One open `subscriptions/listen` request of the session's client. */
interface Listener {
  filter: SubscriptionFilter;
  deliver(notification: JsonRpcNotification): Promise<void> | undefined;
  /** The session ended: no more notifications. */
  ended(): void;
}

/** A 2026-07-28 listen request for a bridged session, and what its upstream requests carry. */
export interface BridgedListen {
  upstream: UpstreamConfig;
  request: JsonRpcRequest;
  res: ResponseSink;
  own: Record<string, string> | undefined;
}

const feeds = new WeakMap<BridgedSession, BridgedFeed>();

/**
 * `subscriptions/listen` for a 2026-07-28 client of a 2025-11-25-only upstream: its bridged
 * session's GET stream is opened and the requested resources subscribed to (`resources/
 * subscribe`); the legacy change notifications it carries go out on the listen response, in
 * the modern shape (acknowledged first, each stamped with the subscription id), as far as the
 * filter asks and the upstream's capabilities allow. The client closing the request ends it:
 * the resources are unsubscribed and, with no other listen open, the GET stream closed. It
 * lasts `limits.maxTotalTimeoutMs` at most, or until the session ends: then the listen request
 * is answered (a graceful end).
 */
export async function listenBridged(
  ctx: ProxyContext,
  listen: BridgedListen,
  session: BridgedSession,
): Promise<void> {
  const { request, res } = listen;
  const asked = SubscriptionFilterSchema.safeParse(
    (request.params as Record<string, unknown>).notifications,
  );
  if (!asked.success) {
    const message = "Invalid params: 'notifications' must be a SubscriptionFilter";
    return sendJson(res, 200, jsonRpcError(request.id, -32602, message));
  }
  const filter = honoredFilter(asked.data, session.initialized.capabilities);
  const stream = openEventStream(res, {}, ctx.config.limits.keepAliveMs);
  const stamp = (message: JsonRpcNotification): JsonRpcNotification => {
    const params = paramsOf(message);
    const meta = { ...(params._meta as object | undefined), [MetaKey.SUBSCRIPTION_ID]: request.id };
    return { ...message, params: { ...params, _meta: meta } };
  };
  let over!: () => void;
  const ended = new Promise<void>((resolve) => {
    over = resolve;
  });
  res.once('close', over);
  const listener: Listener = {
    filter,
    deliver(notification) {
      ctx.metrics.relayedMessages.inc({ upstream: listen.upstream.name, kind: 'related' });
      stream.send(stamp(notification));
      return stream.drained();
    },
    ended: over,
  };
  const feed = feedOf(session, listen.own);
  // In flight as a relayed listen is: admission counts it, draining waits for it.
  ctx.load.enter();
  const honored = await feed.join(listener);
  const acknowledged = 'notifications/subscriptions/acknowledged';
  stream.send(stamp({ jsonrpc: '2.0', method: acknowledged, params: { notifications: honored } }));
  const limit = setTimeout(over, ctx.config.limits.maxTotalTimeoutMs);
  limit.unref();
  if (Object.keys(honored).length === 0) over();
  await ended;
  clearTimeout(limit);
  res.off('close', over);
  await feed.leave(listener);
  ctx.load.leave();
  // Still there: the spec's graceful end, an empty result carrying the subscription id.
  const result = { resultType: 'complete', _meta: { [MetaKey.SUBSCRIPTION_ID]: request.id } };
  stream.send({ jsonrpc: '2.0', id: request.id, result });
  stream.end();
}

function feedOf(session: BridgedSession, own: Record<string, string> | undefined): BridgedFeed {
  let feed = feeds.get(session);
  if (feed === undefined) {
    feed = new BridgedFeed(session, own);
    feeds.set(session, feed);
  }
  return feed;
}

/** What of `asked` the upstream can deliver, by the capabilities its `initialize` declared. */
function honoredFilter(asked: SubscriptionFilter, capabilities: unknown): SubscriptionFilter {
  const declared = (capabilities ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const honored: SubscriptionFilter = {};
  if (asked.toolsListChanged && declared.tools?.listChanged) honored.toolsListChanged = true;
  if (asked.promptsListChanged && declared.prompts?.listChanged) honored.promptsListChanged = true;
  if (asked.resourcesListChanged && declared.resources?.listChanged)
    honored.resourcesListChanged = true;
  const uris = asked.resourceSubscriptions ?? [];
  if (uris.length > 0 && declared.resources?.subscribe) honored.resourceSubscriptions = [...uris];
  return honored;
}

function paramsOf(message: JsonRpcNotification): Record<string, unknown> {
  const { params } = message;
  return params === undefined || Array.isArray(params) ? {} : params;
}

function accepts(filter: SubscriptionFilter, notification: JsonRpcNotification): boolean {
  switch (notification.method) {
    case 'notifications/tools/list_changed':
      return filter.toolsListChanged === true;
    case 'notifications/prompts/list_changed':
      return filter.promptsListChanged === true;
    case 'notifications/resources/list_changed':
      return filter.resourcesListChanged === true;
    case 'notifications/resources/updated':
      return filter.resourceSubscriptions?.includes(String(paramsOf(notification).uri)) === true;
    default:
      return false;
  }
}

/**
 * The server-initiated messages of one bridged session (its GET stream), shared by the listen
 * requests open on it: the stream is open while one is, each resource subscribed to while one
 * asks for it. One reader per session, for as long as the session lives.
 */
class BridgedFeed {
  readonly #session: BridgedSession;
  readonly #headers: Record<string, string> | undefined;
  readonly #listeners = new Set<Listener>();
  /** Listeners asking for each subscribed resource. */
  readonly #uris = new Map<string, number>();
  #reading = false;

  constructor(session: BridgedSession, headers: Record<string, string> | undefined) {
    this.#session = session;
    this.#headers = headers;
  }

  /** Adds the listener; resolves with its filter less the resources the upstream refused. */
  async join(listener: Listener): Promise<SubscriptionFilter> {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) streamControlOf(this.#session.connection)?.openServerStream();
    if (!this.#reading) {
      this.#reading = true;
      void this.#read();
    }
    const refused = new Set<string>();
    for (const uri of listener.filter.resourceSubscriptions ?? []) {
      // Counted before asking, so a listen joining meanwhile does not ask again.
      const count = this.#uris.get(uri) ?? 0;
      this.#uris.set(uri, count + 1);
      if (count > 0 || (await this.#send('resources/subscribe', uri))) continue;
      this.#uris.set(uri, (this.#uris.get(uri) ?? 1) - 1);
      refused.add(uri);
    }
    if (refused.size > 0) {
      const uris = listener.filter.resourceSubscriptions?.filter((u) => !refused.has(u)) ?? [];
      const { resourceSubscriptions: _all, ...rest } = listener.filter;
      listener.filter = uris.length > 0 ? { ...rest, resourceSubscriptions: uris } : rest;
    }
    return listener.filter;
  }

  /** Removes the listener: unsubscribes what no other asks for; the last closes the stream. */
  async leave(listener: Listener): Promise<void> {
    if (!this.#listeners.delete(listener)) return;
    if (this.#listeners.size === 0) streamControlOf(this.#session.connection)?.closeServerStream();
    for (const uri of listener.filter.resourceSubscriptions ?? []) {
      const count = (this.#uris.get(uri) ?? 1) - 1;
      if (count > 0) this.#uris.set(uri, count);
      else {
        this.#uris.delete(uri);
        await this.#send('resources/unsubscribe', uri);
      }
    }
  }

  /** Reads the session's messages until it ends; each change notification to its listeners. */
  async #read(): Promise<void> {
    const { connection } = this.#session;
    for (;;) {
      const message = await connection.receive();
      if (message === undefined) break;
      if (isJsonRpcRequest(message)) {
        this.#refuse(message);
        continue;
      }
      if (!isJsonRpcNotification(message)) continue;
      for (const listener of this.#listeners) {
        if (accepts(listener.filter, message)) await listener.deliver(message);
      }
    }
    for (const listener of this.#listeners) listener.ended();
  }

  /** A request on the GET stream: the 2026-07-28 client cannot be asked outside a call. */
  #refuse(request: JsonRpcRequest): void {
    const answer: JsonRpcResponse =
      request.method === 'ping'
        ? { jsonrpc: '2.0', id: request.id, result: {} }
        : jsonRpcError(request.id, -32601, 'the client cannot be asked (2026-07-28)');
    this.#session.connection.respond(answer, { headers: this.#headers }).catch(() => {});
  }

  /** Sends `resources/subscribe` or `/unsubscribe`; true once the upstream agreed. */
  async #send(method: string, uri: string): Promise<boolean> {
    const id = `bridge-${this.#session.nextId++}`;
    const request: JsonRpcRequest = { jsonrpc: '2.0', id, method, params: { uri } };
    try {
      const answer = await this.#session.connection.request(request, { headers: this.#headers });
      return !isJsonRpcErrorResponse(answer);
    } catch {
      return false;
    }
  }
}
