import {
  AbortedError,
  ConnectionClosedError,
  type ConnectionMetrics,
  type JsonRpcMessage,
  type SendOptions,
  SessionExpiredError,
} from '@mcp/connection-core';
import { sendPost } from './guarded-send.ts';
import { answerStatusError, type HttpTarget } from './http.ts';
import { type SessionMark, type SessionState, withOwnHeaders } from './session.ts';

/** What sending a notification or a response needs from the connection. */
export interface OneWayHost {
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly metrics: ConnectionMetrics;
  readonly options: { readonly reinitialize: boolean | 'requests' };
  readonly closed: boolean;
  /** The id of a session that expired and could not be renewed: nothing more is sent in it. */
  readonly lostSession: string | undefined;
  /** The session replay in progress, if any: what is sent waits for it. */
  readonly reinitializing: Promise<void> | undefined;
  reinitialize(generation: number): Promise<void>;
}

/** How one message is sent: whether it may replay the session, and which session it is for. */
export interface OneWayOptions {
  /** A 404 for the session replays it (when the connection allows) and sends again, once. */
  mayReplay: boolean;
  /** Sent by the replay itself: does not wait for it. */
  partOfReplay?: boolean;
  /** Fails with SessionExpiredError, sending nothing, once this session has been replaced. */
  belongsTo?: SessionMark | undefined;
}

/**
 * POSTs a message that expects no JSON-RPC answer (a notification, or a response to a server
 * request) and resolves once the server accepted it (2xx). A session the server forgot (404) is
 * replayed first when `mayReplay`; any other status rejects with HttpStatusError. In a session
 * that was lost (its renewal failed) nothing is sent: SessionExpiredError.
 */
export async function sendOneWay(
  host: OneWayHost,
  message: JsonRpcMessage,
  rpcMethod: string,
  options: SendOptions | undefined,
  how: OneWayOptions,
): Promise<void> {
  const signal = options?.signal;
  const body = Buffer.from(JSON.stringify(message));
  const bytes = body.byteLength;
  const lost = host.lostSession;
  if (lost !== undefined) throw new SessionExpiredError(lost);
  const session = host.session;
  const belongsTo = how.belongsTo;
  let replayed = false;
  for (;;) {
    const replay = host.reinitializing;
    if (replay !== undefined && how.partOfReplay !== true) await replay;
    const generation = session.generation;
    if (belongsTo !== undefined && belongsTo.generation !== generation) {
      throw new SessionExpiredError(belongsTo.sessionId ?? '');
    }
    const sessionId = session.sessionId;
    const pending = session.postHeaders(rpcMethod);
    const headers = withOwnHeaders(
      pending instanceof Promise ? await pending : pending,
      options?.headers,
    );
    host.metrics.bytesSent(bytes);
    let answer: Awaited<ReturnType<typeof sendPost>>;
    try {
      // Nothing parses the answer: its body is only skimmed (maxJsonBytes undefined).
      answer = await sendPost(host.target, headers, body, signal, undefined, host.metrics);
    } catch (cause) {
      if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
      if (host.closed) throw new ConnectionClosedError(undefined, { cause });
      throw cause;
    }
    // A stream for a message that expects no answer: nothing reads it.
    answer.body?.destroy();
    const status = answer.statusCode;
    if (status >= 200 && status < 300) return;
    if (status === 404 && sessionId !== undefined) {
      if (how.mayReplay && host.options.reinitialize && !replayed) {
        replayed = true;
        await host.reinitialize(generation);
        continue;
      }
      throw new SessionExpiredError(sessionId);
    }
    throw answerStatusError(answer);
  }
}
