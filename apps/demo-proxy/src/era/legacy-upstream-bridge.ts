import { createHash } from 'node:crypto';
import {
  isJsonRpcErrorResponse,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  jsonRpcError,
  LEGACY_PROTOCOL_VERSION,
  MetaKey,
  MODERN_PROTOCOL_VERSION,
} from '@mcp/connection-core';
import { z } from 'zod';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';
import type { ResponseSink } from '../http-types.ts';
import type { Logger } from '../logger.ts';
import { sendJson, sendRejection } from '../replies.ts';
import type { ClientIdentity } from '../session-binding.ts';
import type { AcceptedFormats } from '../validate.ts';
import { listenBridged } from './bridged-listen.ts';
import type { BridgedLease, BridgedSession } from './bridged-sessions.ts';
import { type ModernExchange, relayModern } from './modern-relay.ts';

/** A 2026-07-28 request for a 2025-11-25-only upstream, with what the handler learned. */
export interface BridgeRequest {
  upstream: UpstreamConfig;
  client: ClientIdentity;
  request: JsonRpcRequest;
  envelope: Record<string, unknown>;
  formats: AcceptedFormats;
  res: ResponseSink;
  own: Record<string, string> | undefined;
  log: Logger;
}

/** Methods whose 2026-07-28 results are cacheable: they must say for how long, and for whom. */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/**
 * Serves a 2026-07-28 client from a 2025-11-25-only upstream. Legacy sessions carry state
 * (subscriptions, log level, roots), so one is only ever reused by requests of the same client
 * (its credentials, hashed) declaring the same capabilities: never across clients. Held
 * sessions are bounded (`limits.maxSessions`, least recently used ended first) and ended
 * upstream after `limits.sessionIdleTimeoutMs` unused (BridgedSessions). With
 * `bridgeSessions: 'per-request'` (the stateless mode) each request gets a session of its own,
 * ended once it is answered. `server/discover` is answered from the session's `initialize`.
 * The upstream's requests to the client during a call become multi round-trip requests
 * (BridgedCalls): `input_required`, then the client's retry with its `inputResponses`.
 * `subscriptions/listen` follows the session's GET stream (listenBridged).
 */
export async function bridgeToLegacy(ctx: ProxyContext, bridge: BridgeRequest): Promise<void> {
  const retry = retryOf(bridge.request);
  if (retry?.requestState !== undefined) {
    return continueCall(ctx, bridge, retry.requestState, retry.inputResponses ?? {});
  }
  const owner = sessionKey(bridge);
  const perRequest = bridge.upstream.bridgeSessions === 'per-request';
  const open = (): Promise<BridgedSession> => openSession(ctx, bridge);
  let lease: BridgedLease;
  try {
    lease = perRequest
      ? { session: await open(), release: () => {} }
      : await ctx.bridged.acquire(owner, open);
  } catch (err) {
    bridge.log.warn({ err, upstream: bridge.upstream.name }, 'could not open a bridged session');
    const message = 'Bad Gateway: upstream unavailable';
    return sendRejection(bridge.res, { status: 502, message, rpcCode: -32603 }, bridge.request.id);
  }
  const { session } = lease;
  const end = (): void => {
    lease.release();
    if (perRequest) session.connection.close().catch(() => {});
  };
  const { request, res } = bridge;
  if (request.method === 'server/discover') {
    sendJson(res, 200, { jsonrpc: '2.0', id: request.id, result: discovery(session) });
    return end();
  }
  if (request.method === 'subscriptions/listen') {
    await listenBridged(ctx, bridge, session);
    return end();
  }
  // Requests of several callers share the session: each gets an id of the bridge's own.
  const upstreamRequest = { ...withoutEnvelope(request), id: `bridge-${session.nextId++}` };
  const start = {
    connection: session.connection,
    headers: bridge.own,
    owner,
    totalTimeoutMs: ctx.config.limits.maxTotalTimeoutMs,
    mayWait: !perRequest,
    onEnd: end,
  };
  const send: ModernExchange['send'] = (sent, options) =>
    ctx.bridgedCalls.start({ ...start, request: sent }).leg(options);
  await relayCall(ctx, bridge, send, upstreamRequest);
}

/**
 * A client's retry of a call that asked it for input: the call its `requestState` names, if
 * this client (credentials and capabilities) started it, gets the `inputResponses`.
 */
async function continueCall(
  ctx: ProxyContext,
  bridge: BridgeRequest,
  requestState: string,
  inputResponses: Record<string, unknown>,
): Promise<void> {
  const { request, res } = bridge;
  const call = ctx.bridgedCalls.claim(requestState, sessionKey(bridge), request.method);
  if (call === undefined) {
    const message = 'Invalid params: requestState names no call waiting for this client';
    return sendJson(res, 200, jsonRpcError(request.id, -32602, message));
  }
  await relayCall(ctx, bridge, (_sent, options) => call.resume(inputResponses, options), request);
}

/** Relays one leg of a bridged call, its answers in the 2026-07-28 shape. */
function relayCall(
  ctx: ProxyContext,
  bridge: BridgeRequest,
  send: ModernExchange['send'],
  upstreamRequest: JsonRpcRequest,
): Promise<void> {
  const { request } = bridge;
  const translate = (message: JsonRpcMessage): JsonRpcMessage =>
    'method' in message ? message : modernResponse(request, message);
  return relayModern(ctx, {
    upstream: bridge.upstream,
    send,
    request: upstreamRequest,
    formats: bridge.formats,
    res: bridge.res,
    own: bridge.own,
    log: bridge.log,
    translate,
  });
}

const RetrySchema = z.looseObject({
  requestState: z.string().optional(),
  inputResponses: z.record(z.string(), z.unknown()).optional(),
});

/** The MRTR retry fields of a request's params, when it has them (well formed). */
function retryOf(request: JsonRpcRequest): z.infer<typeof RetrySchema> | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  if (params?.requestState === undefined && params?.inputResponses === undefined) return undefined;
  const parsed = RetrySchema.safeParse(params);
  return parsed.success ? parsed.data : undefined;
}

/** The client's credentials (hashed) and declared capabilities: whose state a session holds. */
function sessionKey(bridge: BridgeRequest): string {
  const { client, upstream, envelope } = bridge;
  const who = client.credentials?.toString('hex') ?? client.key;
  const capabilities = canonicalJson(envelope[MetaKey.CLIENT_CAPABILITIES] ?? {});
  return createHash('sha256')
    .update(`${upstream.name}\0${who}\0${capabilities}`)
    .digest('base64url');
}

async function openSession(ctx: ProxyContext, bridge: BridgeRequest): Promise<BridgedSession> {
  const { upstream, envelope, own } = bridge;
  const key = `bridge:${randomKey()}`;
  const connection = await ctx.connector.connect(upstream, key, { ...upstream.headers, ...own });
  const answer = await connection.request(
    {
      jsonrpc: '2.0',
      id: 'bridge-initialize',
      method: 'initialize',
      params: {
        protocolVersion: LEGACY_PROTOCOL_VERSION,
        capabilities: envelope[MetaKey.CLIENT_CAPABILITIES] ?? {},
        clientInfo: envelope[MetaKey.CLIENT_INFO] ?? { name: 'mcp-connect-bridge', version: '0' },
      },
    },
    { headers: own },
  );
  if (isJsonRpcErrorResponse(answer)) {
    await connection.close();
    throw new Error(`the upstream refused initialize: ${answer.error.message}`);
  }
  await connection.notify(
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { headers: own },
  );
  return { connection, initialized: answer.result as Record<string, unknown>, nextId: 1 };
}

function discovery(session: BridgedSession): Record<string, unknown> {
  const { capabilities, serverInfo, instructions } = session.initialized;
  return {
    resultType: 'complete',
    supportedVersions: [MODERN_PROTOCOL_VERSION],
    capabilities: capabilities ?? {},
    ...(instructions === undefined ? {} : { instructions }),
    ttlMs: 0,
    cacheScope: 'private',
    _meta: { [MetaKey.SERVER_INFO]: serverInfo },
  };
}

/** A 2025-11-25 answer as a 2026-07-28 client expects it: its own id, `resultType`, caching. */
function modernResponse(request: JsonRpcRequest, response: JsonRpcResponse): JsonRpcResponse {
  if (isJsonRpcErrorResponse(response)) return { ...response, id: request.id };
  const result: Record<string, unknown> = {
    resultType: 'complete',
    ...(response.result as Record<string, unknown>),
  };
  if (CACHEABLE.has(request.method) && result.resultType === 'complete') {
    result.ttlMs ??= 0;
    result.cacheScope ??= 'private';
  }
  return { ...response, id: request.id, result };
}

/** `request` without the 2026-07-28 envelope keys (a legacy server would not expect them). */
function withoutEnvelope(request: JsonRpcRequest): JsonRpcRequest {
  const params = request.params as Record<string, unknown>;
  const {
    [MetaKey.PROTOCOL_VERSION]: _v,
    [MetaKey.CLIENT_CAPABILITIES]: _c,
    ...meta
  } = params._meta as Record<string, unknown>;
  delete meta[MetaKey.CLIENT_INFO];
  delete meta[MetaKey.LOG_LEVEL];
  const { _meta: _m, ...rest } = params;
  return { ...request, params: Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta } };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

let counter = 0;
function randomKey(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${process.pid}-${counter}`;
}
