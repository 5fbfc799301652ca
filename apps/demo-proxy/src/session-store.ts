/**
 * Where a session id leads. In memory (the default): the id is a random UUID and the session
 * lives in this process only. Sealed (`sessions.sealingKeys`): the id is a token sealing what
 * any replica needs to serve the session (see sealed-sessions.ts), so no store is shared.
 */
import type { JsonRpcRequest, JsonRpcResponse } from '@mcp/connection-core';
import type { UpstreamConfig } from './config.ts';
import type { ProxyContext } from './context.ts';
import type { BufferedEvent } from './event-buffer.ts';
import type { DownstreamRequest } from './http-types.ts';
import type { Logger } from './logger.ts';
import { pumpServerMessages } from './relay.ts';
import { findClientSession, identify } from './session-access.ts';
import type { ProxySession } from './session-registry.ts';

/** Where a new GET stream starts: events replayed from here, the upstream stream resumed there. */
export interface ResumePoint {
  replay: BufferedEvent[];
  /** The upstream's Last-Event-ID, when the client's came from another replica. */
  upstreamLastEventId?: string;
}

export interface SessionStore {
  readonly kind: 'memory' | 'sealed';
  /** The session `sessionId` names, when the request's client may use it (else: 404). */
  find(
    ctx: ProxyContext,
    upstream: UpstreamConfig,
    sessionId: string,
    req: DownstreamRequest,
    log: Logger,
  ): ProxySession | undefined | Promise<ProxySession | undefined>;
  /**
   * The id the client gets for a session whose `initialize` the upstream just answered
   * (`headersSent`: the answer's headers already went out with the session's first id).
   */
  started(
    ctx: ProxyContext,
    session: ProxySession,
    exchange: { request: JsonRpcRequest; response: JsonRpcResponse; headersSent: boolean },
  ): string;
  /**
   * The id an answer of the session carries now (a sealed session's new token, once its
   * upstream session was re-initialized).
   */
  currentId(ctx: ProxyContext, session: ProxySession): string;
  /** The client's DELETE: ends the session; false when the upstream no longer knew it. */
  end(ctx: ProxyContext, session: ProxySession): Promise<boolean>;
  /** What the event of a server message carries besides its sequence number. */
  eventTag(session: ProxySession, upstreamEventId: string | undefined): string | undefined;
  /** Where a GET stream with this Last-Event-ID (after the access checks) starts. */
  resumePoint(session: ProxySession, lastEventId: string | undefined): ResumePoint;
  /** The prefix of a new session's event ids. */
  eventIdPrefix(): string;
}

/** Today's behaviour: sessions in this process, found by their random id. */
export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory';

  find(
    ctx: ProxyContext,
    upstream: UpstreamConfig,
    sessionId: string,
    req: DownstreamRequest,
    log: Logger,
  ): ProxySession | undefined {
    return findClientSession(ctx, upstream, sessionId, identify(ctx, req), log);
  }

  started(_ctx: ProxyContext, session: ProxySession): string {
    return session.id;
  }

  currentId(_ctx: ProxyContext, session: ProxySession): string {
    return session.id;
  }

  async end(ctx: ProxyContext, session: ProxySession): Promise<boolean> {
    await ctx.sessions.remove(session);
    return true;
  }

  eventTag(): undefined {
    return undefined;
  }

  resumePoint(session: ProxySession, lastEventId: string | undefined): ResumePoint {
    return { replay: localReplay(session, lastEventId) };
  }

  eventIdPrefix(): string {
    return '';
  }
}

/** A resumed stream replays what came after its last event; a new one, what no stream carried. */
export function localReplay(
  session: ProxySession,
  lastEventId: string | undefined,
): BufferedEvent[] {
  return lastEventId === undefined
    ? session.events.undelivered()
    : session.events.after(lastEventId);
}

/**
 * Pumps the upstream's own messages into the session (its event buffer and GET stream) for as
 * long as the session lives, and forgets the session when the upstream's stream of them ends.
 */
export function followServerMessages(ctx: ProxyContext, session: ProxySession, log: Logger): void {
  pumpServerMessages(ctx, session)
    .catch((err: unknown) => log.debug({ err }, 'server message stream ended'))
    .then(() => ctx.sessions.remove(session))
    .catch(() => {});
}
