import {
  BoundedMap,
  type DiscoverResult,
  eraOf,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type McpEra,
  MODERN_PROTOCOL_VERSION,
  TransportError,
} from '@mcp/connection-core';
import type { HeadersContext, HeadersProvider } from './options.ts';

export type HeaderRecord = Record<string, string>;

const POST_BASE: HeaderRecord = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
const GET_BASE: HeaderRecord = { accept: 'text/event-stream' };
/** Server requests whose session is remembered for their answer, at most (oldest forgotten). */
const MAX_REMEMBERED_SERVER_REQUESTS = 4096;

/** A session another connection initialized (see `Http2Connection.adoptSession`). */
export interface AdoptedSession {
  sessionId: string;
  protocolVersion: string;
  /** The `initialize` request that opened it (replayed by `reinitialize`). */
  initialize: JsonRpcRequest;
}

/** A session as one generation of the connection: its number, and the id the server gave it. */
export interface SessionMark {
  generation: number;
  sessionId: string | undefined;
}

/** Headers the transport owns: a message's own headers never replace them. */
const PROTOCOL_HEADERS = new Set([
  'content-type',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
]);

/** `base` with one message's own headers on top (those the protocol owns are left as they are). */
export function withOwnHeaders(
  base: HeaderRecord,
  own: Readonly<HeaderRecord> | undefined,
): HeaderRecord {
  if (own === undefined) return base;
  const out = { ...base };
  for (const key of Object.keys(own)) {
    const name = key.toLowerCase();
    if (!PROTOCOL_HEADERS.has(name)) out[name] = own[key] as string;
  }
  return out;
}

/**
 * What the connection knows about its MCP session: the id the server assigned, the negotiated
 * protocol version, and the initialize exchange to replay after the session expires. It builds
 * the headers of every request; the static part is computed once per session change, so a
 * request with static headers allocates no header object.
 */
export class SessionState {
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #era: McpEra | undefined;
  #discovery: DiscoverResult | undefined;
  /** In the 2026-07-28 era: the `_meta` envelope every request carries. */
  envelope: Record<string, unknown> | undefined;
  #staticHeaders: HeaderRecord;
  #provider: HeadersProvider | undefined;
  #post: HeaderRecord;
  #get: HeaderRecord;
  #plain: HeaderRecord;
  #initialize: HeaderRecord;
  /** Bumped on every session change, so a request can tell whether its session is current. */
  generation = 0;
  initializeRequest: JsonRpcRequest | undefined;
  initializedNotification: JsonRpcNotification | undefined;
  /** The session each server-to-client request arrived in, by its id, until it is answered. */
  readonly #serverRequests = new BoundedMap<JsonRpcId, SessionMark>(MAX_REMEMBERED_SERVER_REQUESTS);

  constructor(headers: HeaderRecord | HeadersProvider | undefined) {
    if (typeof headers === 'function') {
      this.#provider = headers;
      this.#staticHeaders = {};
    } else {
      this.#staticHeaders = lowerCaseKeys(headers ?? {});
    }
    this.#post = {};
    this.#get = {};
    this.#plain = {};
    this.#initialize = { ...this.#staticHeaders, ...POST_BASE };
    this.#rebuild();
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  get era(): McpEra | undefined {
    return this.#era;
  }

  get discovery(): DiscoverResult | undefined {
    return this.#discovery;
  }

  get hasHeaderProvider(): boolean {
    return this.#provider !== undefined;
  }

  /** Records the outcome of `initialize`: the session id header and the negotiated version. */
  established(sessionId: string | undefined, protocolVersion: string | undefined): void {
    this.#sessionId = sessionId;
    this.#protocolVersion = protocolVersion;
    this.#era = protocolVersion === undefined ? undefined : eraOf(protocolVersion);
    this.#discovery = undefined;
    this.generation++;
    this.#rebuild();
  }

  /** Takes on a session another connection initialized (see `Http2Connection.adoptSession`). */
  adopt(session: AdoptedSession): void {
    this.initializeRequest = session.initialize;
    this.initializedNotification ??= { jsonrpc: '2.0', method: 'notifications/initialized' };
    if (this.#sessionId !== session.sessionId || this.#protocolVersion !== session.protocolVersion)
      this.established(session.sessionId, session.protocolVersion);
  }

  /** Records a 2026-07-28 `server/discover` answer: no session, the stateless era. */
  discovered(discovery: DiscoverResult, envelope: Record<string, unknown>): void {
    this.established(undefined, MODERN_PROTOCOL_VERSION);
    this.#discovery = discovery;
    this.envelope = envelope;
  }

  /** Forgets the session (it expired, or a new one is being negotiated). */
  reset(): void {
    this.established(undefined, undefined);
  }

  /** A server-to-client request arrived in the current session. */
  serverRequestArrived(id: JsonRpcId): void {
    this.#serverRequests.set(id, { generation: this.generation, sessionId: this.#sessionId });
  }

  /**
   * The session an answer to server request `id` belongs to: the one it arrived in, or (when
   * that is not known) the current one. Forgets the request.
   */
  answerBelongsTo(id: JsonRpcId | null): SessionMark {
    const mark = id === null ? undefined : this.#serverRequests.get(id);
    if (mark === undefined) return { generation: this.generation, sessionId: this.#sessionId };
    this.#serverRequests.delete(id as JsonRpcId);
    return mark;
  }

  /** Headers of a POST; the same object every call unless a provider adds per-request ones. */
  postHeaders(rpcMethod: string): HeaderRecord | Promise<HeaderRecord> {
    if (this.#provider === undefined) return this.#post;
    return this.#withProvided(this.#post, { method: 'POST', rpcMethod });
  }

  /** Headers of an `initialize` POST: a new session starts without the old one's headers. */
  initializeHeaders(): HeaderRecord | Promise<HeaderRecord> {
    if (this.#provider === undefined) return this.#initialize;
    return this.#withProvided(this.#initialize, { method: 'POST', rpcMethod: 'initialize' });
  }

  getHeaders(lastEventId: string | undefined): HeaderRecord | Promise<HeaderRecord> {
    const base =
      lastEventId === undefined ? this.#get : { ...this.#get, 'last-event-id': lastEventId };
    if (this.#provider === undefined) return base;
    return this.#withProvided(base, { method: 'GET', rpcMethod: undefined });
  }

  deleteHeaders(): HeaderRecord | Promise<HeaderRecord> {
    if (this.#provider === undefined) return this.#plain;
    return this.#withProvided(this.#plain, { method: 'DELETE', rpcMethod: undefined });
  }

  async #withProvided(base: HeaderRecord, context: HeadersContext): Promise<HeaderRecord> {
    const provider = this.#provider as HeadersProvider;
    let extra: HeaderRecord;
    try {
      extra = await provider(context);
    } catch (cause) {
      throw new TransportError('The headers function failed', { cause });
    }
    // Protocol headers win over provided ones: they are what the server routes on.
    return { ...lowerCaseKeys(extra), ...base };
  }

  #rebuild(): void {
    const session: HeaderRecord = {};
    if (this.#sessionId !== undefined) session['mcp-session-id'] = this.#sessionId;
    if (this.#protocolVersion !== undefined) {
      session['mcp-protocol-version'] = this.#protocolVersion;
    }
    this.#plain = { ...this.#staticHeaders, ...session };
    this.#post = { ...this.#staticHeaders, ...POST_BASE, ...session };
    this.#get = { ...this.#staticHeaders, ...GET_BASE, ...session };
  }
}

function lowerCaseKeys(record: HeaderRecord): HeaderRecord {
  const out: HeaderRecord = {};
  for (const key of Object.keys(record)) out[key.toLowerCase()] = record[key] as string;
  return out;
}
