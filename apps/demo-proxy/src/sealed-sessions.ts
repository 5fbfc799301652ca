/**
 * Sealed sessions: the Mcp-Session-Id a client gets is a token (sealing.ts) holding the
 * upstream's name, the upstream session id, the negotiated protocol version, the client's
 * `initialize` and the hash of its credentials. Any replica holding the keys opens it and
 * adopts the upstream session on its own pooled connection: no lookup anywhere, no store.
 * A replica keeps what it adopted in its registry (under the token) while the session is in
 * use there, as a cache that any replica can rebuild from the token alone.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { JsonRpcRequest, JsonRpcResponse } from '@mcp/connection-core';
import type { AdoptedSession } from '@mcp/http2';
import { z } from 'zod';
import type { ProxyConfig, UpstreamConfig } from './config.ts';
import type { ProxyContext } from './context.ts';
import { updateCredentials, upstreamHeaders } from './handlers/common.ts';
import type { DownstreamRequest } from './http-types.ts';
import type { Logger } from './logger.ts';
import { type SealingKey, TokenSealer } from './sealing.ts';
import { loadSealingKeys } from './sealing-keys.ts';
import { findClientSession, identify, refused } from './session-access.ts';
import type { ClientIdentity } from './session-binding.ts';
import type { ProxySession } from './session-registry.ts';
import {
  followServerMessages,
  localReplay,
  MemorySessionStore,
  type ResumePoint,
  type SessionStore,
} from './session-store.ts';
import { ENDED, SessionSuccessors, upstreamSessionKey } from './session-successors.ts';

const SESSION_PURPOSE = 'session';
/** Successors followed from one token, at most (each re-initialization adds one). */
const MAX_SUCCESSOR_HOPS = 8;
const b64 = z.string().regex(/^[A-Za-z0-9_-]*$/);

/** What a session token holds (short names: it travels on every request). */
const ClaimsSchema = z.object({
  /** Upstream name. */
  u: z.string(),
  /** Upstream session id. */
  s: z.string(),
  /** Negotiated protocol version. */
  v: z.string(),
  /** The client's initialize params (protocolVersion, capabilities, clientInfo). */
  i: z.record(z.string(), z.unknown()),
  /** SHA-256 of the binding header (base64url), when the client sent one. */
  c: b64.optional(),
  /** Sealed at (seconds since the epoch). */
  t: z.number(),
});
export type SessionClaims = z.output<typeof ClaimsSchema>;

/** The store `config` asks for: sealed when it names sealing keys, else in memory. */
export function createSessionStore(config: ProxyConfig, env = process.env): SessionStore {
  const keys = config.sessions.sealingKeys;
  if (keys === undefined) return new MemorySessionStore();
  return new SealedSessionStore(loadSealingKeys(keys, env), {
    successors: config.limits.maxSessions,
    tokenMaxAgeMs: config.sessions.tokenMaxAgeMs,
  });
}

export interface SealedSessionStoreOptions {
  /** Upstream sessions whose successor (or end) this replica remembers, at most. */
  successors: number;
  /** A token older than this is refused (404); answers re-seal one past half of it. */
  tokenMaxAgeMs: number;
}

export class SealedSessionStore implements SessionStore {
  readonly kind = 'sealed';
  readonly #sealer: TokenSealer;
  /** Adoptions under way, by token: concurrent requests of one session share one. */
  readonly #adopting = new Map<string, Promise<ProxySession | undefined>>();
  /** What each session's token holds (its upstream session may have been renewed since). */
  readonly #claims = new WeakMap<ProxySession, SessionClaims>();
  readonly #successors: SessionSuccessors;
  readonly #maxAgeMs: number;

  constructor(keys: readonly SealingKey[], options: SealedSessionStoreOptions) {
    this.#sealer = new TokenSealer(keys);
    this.#successors = new SessionSuccessors(options.successors);
    this.#maxAgeMs = options.tokenMaxAgeMs;
  }

  /** Seals `claims` into a session token. */
  seal(claims: SessionClaims): string {
    return this.#sealer.seal(Buffer.from(JSON.stringify(claims)), SESSION_PURPOSE);
  }

  /** The claims of a token one of the keys sealed; undefined for anything else. */
  open(token: string): SessionClaims | undefined {
    const plain = this.#sealer.open(token, SESSION_PURPOSE);
    if (plain === undefined) return undefined;
    try {
      const parsed = ClaimsSchema.safeParse(JSON.parse(plain.toString('utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  find(
    ctx: ProxyContext,
    upstream: UpstreamConfig,
    sessionId: string,
    req: DownstreamRequest,
    log: Logger,
  ): ProxySession | undefined | Promise<ProxySession | undefined> {
    const client = identify(ctx, req);
    const local = findClientSession(ctx, upstream, sessionId, client, log);
    if (local !== undefined)
      return this.#ageMs(this.#claims.get(local)) > this.#maxAgeMs ? undefined : local;
    if (ctx.sessions.peek(sessionId, upstream.name)) return undefined;
    const opened = this.open(sessionId);
    if (opened === undefined || opened.u !== upstream.name) return undefined;
    if (this.#ageMs(opened) > this.#maxAgeMs) return undefined; // expired
    if (!boundTo(opened, client)) {
      refused(ctx, log, 'credentials', client, 'session token used with other credentials');
      return undefined;
    }
    const latest = this.#latest(sessionId, opened);
    if (latest === undefined) return undefined; // ended here
    const { token, claims } = latest;
    if (token !== sessionId) {
      const renewed = findClientSession(ctx, upstream, token, client, log);
      if (renewed !== undefined || ctx.sessions.peek(token, upstream.name)) return renewed;
    }
    return this.#adoptOnce(ctx, upstream, { token, claims, client, req }, log);
  }

  /**
   * The newest token this replica knows for the upstream session `claims` name (following
   * re-initializations and re-sealings); undefined when the session was ended here.
   */
  #latest(
    token: string,
    claims: SessionClaims,
  ): { token: string; claims: SessionClaims } | undefined {
    let latest = { token, claims };
    for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
      const next = this.#successors.get(upstreamSessionKey(latest.claims.u, latest.claims.s));
      if (next === ENDED) return undefined;
      const nextClaims = next === undefined ? undefined : this.open(next);
      if (next === undefined || nextClaims === undefined || next === latest.token) break;
      latest = { token: next, claims: nextClaims };
    }
    return latest;
  }

  /** Adopts the session a token names; concurrent requests of one session share one adoption. */
  #adoptOnce(
    ctx: ProxyContext,
    upstream: UpstreamConfig,
    named: { token: string; claims: SessionClaims; client: ClientIdentity; req: DownstreamRequest },
    log: Logger,
  ): Promise<ProxySession | undefined> {
    const sessionId = named.token;
    let adopting = this.#adopting.get(sessionId);
    if (adopting === undefined) {
      // No upstream I/O happens here: what fails is local (the pool's session limit), and the
      // client is told as for an unknown session.
      adopting = this.#adopt(ctx, upstream, named, log).catch((err: unknown) => {
        log.warn({ err, upstream: upstream.name }, 'could not adopt a sealed session');
        return undefined;
      });
      this.#adopting.set(sessionId, adopting);
      adopting.finally(() => this.#adopting.delete(sessionId)).catch(() => {});
    }
    return adopting;
  }

  started(
    ctx: ProxyContext,
    session: ProxySession,
    exchange: { request: JsonRpcRequest; response: JsonRpcResponse; headersSent: boolean },
  ): string {
    const upstreamSessionId = session.connection.sessionId;
    const version = session.connection.protocolVersion;
    const { request, response, headersSent } = exchange;
    // A session whose id went out already, or that has no upstream id to seal, stays here.
    if (headersSent || !('result' in response) || upstreamSessionId === undefined)
      return session.id;
    if (version === undefined || !shareable(session, upstreamSessionId, version, request))
      return session.id;
    const claims: SessionClaims = {
      u: session.upstream.name,
      s: upstreamSessionId,
      v: version,
      i: initializeParams(request),
      ...(session.owner.credentials === undefined
        ? {}
        : { c: session.owner.credentials.toString('base64url') }),
      t: nowSeconds(),
    };
    return this.#reseal(ctx, session, claims);
  }

  /**
   * The session's token as its answers carry it: a new one once its upstream session was
   * re-initialized, or once it is past half its age (a session in use never expires; the
   * client's SDK takes the Mcp-Session-Id of any answer), filed here as the successor of the
   * one it replaces.
   */
  currentId(ctx: ProxyContext, session: ProxySession): string {
    const claims = this.#claims.get(session);
    const upstreamSessionId = session.connection.sessionId;
    const version = session.connection.protocolVersion;
    if (claims === undefined || upstreamSessionId === undefined || version === undefined)
      return session.id;
    const renewed = upstreamSessionId !== claims.s;
    if (!renewed && this.#ageMs(claims) <= this.#maxAgeMs / 2) return session.id;
    const token = this.#reseal(ctx, session, {
      ...claims,
      s: upstreamSessionId,
      v: version,
      t: nowSeconds(),
    });
    this.#successors.set(upstreamSessionKey(claims.u, claims.s), token);
    return token;
  }

  /** How old the token holding `claims` is (0 for a session without one). */
  #ageMs(claims: SessionClaims | undefined): number {
    return claims === undefined ? 0 : Date.now() - claims.t * 1000;
  }

  /** Seals `claims` as the session's token, and files the session under it. */
  #reseal(ctx: ProxyContext, session: ProxySession, claims: SessionClaims): string {
    const token = this.seal(claims);
    this.#claims.set(session, claims);
    ctx.sessions.rekey(session, token);
    return token;
  }

  async end(ctx: ProxyContext, session: ProxySession): Promise<boolean> {
    const ending = session.connection as { endSession?: () => Promise<number | undefined> };
    const status = typeof ending.endSession === 'function' ? await ending.endSession() : undefined;
    const claims = this.#claims.get(session);
    // The client ended it: its token gets 404 here, never a re-initialized session.
    if (claims !== undefined) this.#successors.set(upstreamSessionKey(claims.u, claims.s), ENDED);
    await ctx.sessions.remove(session);
    return status !== 404;
  }

  eventTag(session: ProxySession, upstreamEventId: string | undefined): string | undefined {
    const sessionId = session.connection.sessionId;
    if (upstreamEventId === undefined || sessionId === undefined) return undefined;
    return this.#sealer.seal(Buffer.from(upstreamEventId), eventPurpose(sessionId));
  }

  /**
   * An event id of this replica replays from its buffer, and the upstream stream (when it has
   * to be opened again) resumes where the buffer ends. Another replica's id (`<prefix>.<seq>.
   * <tag>`) replays nothing here: the upstream stream resumes after the upstream event its tag
   * seals.
   */
  resumePoint(session: ProxySession, lastEventId: string | undefined): ResumePoint {
    const { events } = session;
    if (lastEventId === undefined || events.sequenceOf(lastEventId) !== undefined) {
      const upstreamLastEventId = this.#upstreamEventId(session, events.lastTag);
      const replay = localReplay(session, lastEventId);
      return upstreamLastEventId === undefined ? { replay } : { replay, upstreamLastEventId };
    }
    const tag = lastEventId.split('.').slice(2).join('.');
    const upstreamLastEventId = this.#upstreamEventId(session, tag);
    if (upstreamLastEventId === undefined) return { replay: [] };
    events.startFrom(tag);
    return { replay: [], upstreamLastEventId };
  }

  /** The upstream event id a tag of this session seals. */
  #upstreamEventId(session: ProxySession, tag: string | undefined): string | undefined {
    const sessionId = session.connection.sessionId;
    if (tag === undefined || sessionId === undefined) return undefined;
    return this.#sealer.open(tag, eventPurpose(sessionId))?.toString('utf8');
  }

  eventIdPrefix(): string {
    return `${randomBytes(6).toString('base64url')}.`;
  }

  /** Adopts the upstream session a token names, on this replica's pool. */
  async #adopt(
    ctx: ProxyContext,
    upstream: UpstreamConfig,
    named: { token: string; claims: SessionClaims; client: ClientIdentity; req: DownstreamRequest },
    log: Logger,
  ): Promise<ProxySession | undefined> {
    const { token, claims, client, req } = named;
    const credentials = { authorization: undefined };
    updateCredentials(credentials, req);
    const headers = upstreamHeaders(upstream, credentials);
    const adopted: AdoptedSession = {
      sessionId: claims.s,
      protocolVersion: claims.v,
      initialize: { jsonrpc: '2.0', id: 0, method: 'initialize', params: claims.i },
    };
    const session = await ctx.sessions.create(
      upstream,
      client,
      credentials,
      async () => {
        const connection = await ctx.connector.connect(upstream, token, headers);
        const adoptable = connection as { adoptSession?: (s: AdoptedSession) => boolean };
        if (adoptable.adoptSession?.(adopted) !== true) {
          await connection.close();
          throw new Error('the upstream connection cannot adopt a session');
        }
        return connection;
      },
      token,
    );
    session.initialized = true;
    this.#claims.set(session, claims);
    followServerMessages(ctx, session, log);
    log.debug({ upstream: upstream.name }, 'sealed session adopted');
    return session;
  }
}

/** The part of `initialize` a re-initialization needs (protocolVersion, capabilities, clientInfo). */
function initializeParams(request: JsonRpcRequest): Record<string, unknown> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const { protocolVersion, capabilities, clientInfo } = params;
  return { protocolVersion, capabilities, clientInfo };
}

/** Marks the session's connection as shared; false when it cannot be (a legacy session). */
function shareable(
  session: ProxySession,
  sessionId: string,
  protocolVersion: string,
  initialize: JsonRpcRequest,
): boolean {
  const connection = session.connection as { adoptSession?: (s: AdoptedSession) => boolean };
  return connection.adoptSession?.({ sessionId, protocolVersion, initialize }) === true;
}

function boundTo(claims: SessionClaims, client: ClientIdentity): boolean {
  const given = client.credentials;
  if (claims.c === undefined || given === undefined)
    return claims.c === undefined && given === undefined;
  const sealed = Buffer.from(claims.c, 'base64url');
  return sealed.length === given.length && timingSafeEqual(sealed, given);
}

function eventPurpose(upstreamSessionId: string): string {
  return `event\u0000${upstreamSessionId}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
