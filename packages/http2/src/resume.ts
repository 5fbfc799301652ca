import { type ConnectionMetrics, SessionExpiredError } from '@mcp/connection-core';
import { contentKind } from './content-kind.ts';
import {
  type AbortEmitter,
  discardBody,
  type HttpTarget,
  type ResponseBody,
  type ResponseData,
  sendHttp,
  statusError,
} from './http.ts';
import { type SessionState, withOwnHeaders } from './session.ts';

interface ResumeHost {
  readonly target: HttpTarget;
  readonly session: SessionState;
  readonly metrics: ConnectionMetrics;
}

/**
 * Reopens a response stream with GET + Last-Event-ID (SEP-1699 / resumability). Resolves the
 * new SSE body, or undefined when this attempt failed in a way worth retrying (network, 5xx).
 * Rejects when retrying cannot help: the session expired (404) or the server refuses GET (405).
 * Aborting `signal` (the exchange) rejects.
 */
export async function reopenResponseStream(
  host: ResumeHost,
  lastEventId: string,
  signal: AbortEmitter & { readonly settled: boolean },
  ownHeaders?: Readonly<Record<string, string>>,
): Promise<ResponseBody | undefined> {
  const session = host.session;
  const sessionId = session.sessionId;
  const pending = session.getHeaders(lastEventId);
  const headers = withOwnHeaders(pending instanceof Promise ? await pending : pending, ownHeaders);
  let response: ResponseData;
  try {
    response = await sendHttp(host.target, 'GET', headers, signal);
  } catch (error) {
    if (signal.settled) throw error;
    return undefined;
  }
  const status = response.statusCode;
  if (status === 200 && contentKind(response.headers['content-type']) === 'sse') {
    return response.body;
  }
  if (status === 404 && sessionId !== undefined) {
    discardBody(response.body);
    throw new SessionExpiredError(sessionId);
  }
  if (status === 405) throw await statusError(response, host.metrics);
  discardBody(response.body);
  return undefined;
}
