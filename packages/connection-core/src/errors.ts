/**
 * Every failure a user of these packages can see is one of these classes. Match on `err.code`
 * (stable across releases) or `instanceof`; the underlying failure, when there is one, is kept
 * as `cause` and never pasted into the message.
 */

export const ErrorCode = {
  HTTP_STATUS: 'MCP_HTTP_STATUS',
  SESSION_EXPIRED: 'MCP_SESSION_EXPIRED',
  TIMEOUT: 'MCP_TIMEOUT',
  ABORTED: 'MCP_ABORTED',
  INVALID_MESSAGE: 'MCP_INVALID_MESSAGE',
  UNEXPECTED_CONTENT_TYPE: 'MCP_UNEXPECTED_CONTENT_TYPE',
  UNKNOWN_RESPONSE_ID: 'MCP_UNKNOWN_RESPONSE_ID',
  CONNECTION_CLOSED: 'MCP_CONNECTION_CLOSED',
  QUEUE_FULL: 'MCP_QUEUE_FULL',
  RESPONSE_TOO_LARGE: 'MCP_RESPONSE_TOO_LARGE',
  SESSION_LIMIT: 'MCP_SESSION_LIMIT',
  ORIGIN_BUSY: 'MCP_ORIGIN_BUSY',
  TRANSPORT: 'MCP_TRANSPORT',
  RECONNECT_FAILED: 'MCP_RECONNECT_FAILED',
  INVALID_OPTIONS: 'MCP_INVALID_OPTIONS',
  SSE_BUFFER_OVERFLOW: 'MCP_SSE_BUFFER_OVERFLOW',
  INVALID_SSE_FIELD: 'MCP_INVALID_SSE_FIELD',
  ENDPOINT_ORIGIN: 'MCP_ENDPOINT_ORIGIN',
  UNSUPPORTED: 'MCP_UNSUPPORTED',
  INVALID_STATE: 'MCP_INVALID_STATE',
  UNSUPPORTED_NODE: 'MCP_UNSUPPORTED_NODE',
  ERA_NEGOTIATION: 'MCP_ERA_NEGOTIATION',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface McpErrorOptions {
  cause?: unknown;
}

/** Base class of every error these packages throw. */
export class McpConnectionError extends Error {
  override name = 'McpConnectionError';
  readonly code: ErrorCode;
  /** Whether sending the same message again may succeed without any other change. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, retryable: boolean, options?: McpErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = retryable;
  }
}

/** The bytes of a body kept on an error, at most; enough to read a server's complaint. */
export const BODY_EXCERPT_LIMIT = 2048;

/** The server answered with a status this transport does not treat as success. */
export class HttpStatusError extends McpConnectionError {
  override name = 'HttpStatusError';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The first BODY_EXCERPT_LIMIT characters of the body, decoded as UTF-8. */
  readonly bodyExcerpt: string;

  constructor(
    status: number,
    headers: Readonly<Record<string, string>>,
    body: string,
    options?: McpErrorOptions,
  ) {
    super(
      ErrorCode.HTTP_STATUS,
      `Server answered HTTP ${status}`,
      status === 429 || status === 502 || status === 503 || status === 504,
      options,
    );
    this.status = status;
    this.headers = headers;
    this.bodyExcerpt = body.length > BODY_EXCERPT_LIMIT ? body.slice(0, BODY_EXCERPT_LIMIT) : body;
  }
}

/** The server no longer knows the session (HTTP 404 to a request that carried its id). */
export class SessionExpiredError extends McpConnectionError {
  override name = 'SessionExpiredError';
  readonly sessionId: string;

  constructor(sessionId: string, options?: McpErrorOptions) {
    super(
      ErrorCode.SESSION_EXPIRED,
      `Session ${sessionId} is no longer known to the server; initialize a new one`,
      false,
      options,
    );
    this.sessionId = sessionId;
  }
}

/** No response within the request's time limit. The request was cancelled. */
export class TimeoutError extends McpConnectionError {
  override name = 'TimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number, what = 'Request', options?: McpErrorOptions) {
    super(ErrorCode.TIMEOUT, `${what} timed out after ${timeoutMs} ms`, true, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class AbortedError extends McpConnectionError {
  override name = 'AbortedError';

  constructor(options?: McpErrorOptions) {
    super(ErrorCode.ABORTED, 'Request was aborted', false, options);
  }
}

/** The peer broke the protocol. Subclasses say how. */
export class ProtocolError extends McpConnectionError {
  override name = 'ProtocolError';
}

export type InvalidMessageIssue =
  | 'not-utf8'
  | 'not-json'
  | 'not-object'
  | 'batch'
  | 'empty-batch'
  | 'bad-version'
  | 'bad-id'
  | 'result-and-error'
  | 'method-and-response'
  | 'not-jsonrpc'
  | 'invalid-field';

/** Bytes that are not one JSON-RPC 2.0 message. `issue` says what is wrong. */
export class InvalidMessageError extends ProtocolError {
  override name = 'InvalidMessageError';
  readonly issue: InvalidMessageIssue;
  /** The SSE event id the message came in, when it came in one. */
  readonly eventId: string | undefined;

  constructor(
    issue: InvalidMessageIssue,
    detail: string,
    options?: McpErrorOptions & { eventId?: string | undefined },
  ) {
    super(ErrorCode.INVALID_MESSAGE, `Invalid JSON-RPC message: ${detail}`, false, options);
    this.issue = issue;
    this.eventId = options?.eventId;
  }
}

/** The response's Content-Type is not one the exchange allows. */
export class UnexpectedContentTypeError extends ProtocolError {
  override name = 'UnexpectedContentTypeError';
  readonly contentType: string | undefined;

  constructor(contentType: string | undefined, expected: string, options?: McpErrorOptions) {
    super(
      ErrorCode.UNEXPECTED_CONTENT_TYPE,
      `Unexpected Content-Type ${contentType === undefined ? '(none)' : JSON.stringify(contentType)}; expected ${expected}`,
      false,
      options,
    );
    this.contentType = contentType;
  }
}

/** A response arrived whose id matches no request in flight. */
export class UnknownResponseIdError extends ProtocolError {
  override name = 'UnknownResponseIdError';
  readonly id: string | number | null;

  constructor(id: string | number | null, options?: McpErrorOptions) {
    super(
      ErrorCode.UNKNOWN_RESPONSE_ID,
      `Response id ${JSON.stringify(id)} matches no request in flight`,
      false,
      options,
    );
    this.id = id;
  }
}

/** The connection was closed, by `close()` or by the peer, before the operation finished. */
export class ConnectionClosedError extends McpConnectionError {
  override name = 'ConnectionClosedError';

  constructor(message = 'Connection is closed', options?: McpErrorOptions) {
    super(ErrorCode.CONNECTION_CLOSED, message, false, options);
  }
}

/** Too many requests waiting: the bounded queue is full. Back off and retry. */
export class QueueFullError extends McpConnectionError {
  override name = 'QueueFullError';
  readonly limit: number;

  constructor(limit: number, what = 'Request queue', options?: McpErrorOptions) {
    super(ErrorCode.QUEUE_FULL, `${what} is full (${limit} waiting)`, true, options);
    this.limit = limit;
  }
}

/**
 * A pool already holds its limit of sessions to one origin and every one of them has requests
 * in flight, so none can be closed to make room. Retry once some finish, or raise the limit.
 */
export class SessionLimitError extends McpConnectionError {
  override name = 'SessionLimitError';
  readonly origin: string;
  readonly limit: number;

  constructor(origin: string, limit: number, options?: McpErrorOptions) {
    super(
      ErrorCode.SESSION_LIMIT,
      `Session limit reached for ${origin} (${limit} sessions, all busy)`,
      true,
      options,
    );
    this.origin = origin;
    this.limit = limit;
  }
}

/** Why a request found no room at an origin: its wait queue was full, or it waited too long. */
export type OriginBusyReason = 'queue-full' | 'queue-timeout';

/**
 * Every connection (HTTP/1.1 socket, or HTTP/2 stream slot) a pool may use for an origin was
 * busy, and the request could not wait: the wait queue was full, or its time ran out. Nothing
 * was sent. `limit` and `limitName` name the budget that ran out (the option to raise).
 */
export class OriginBusyError extends McpConnectionError {
  override name = 'OriginBusyError';
  readonly origin: string;
  readonly reason: OriginBusyReason;
  /** The option that sets the exhausted budget, e.g. `maxHttp1SocketsPerOrigin`. */
  readonly limitName: string;
  readonly limit: number;
  /** How long the request waited, in ms (0 when the queue was full). */
  readonly waitedMs: number;

  constructor(
    details: {
      origin: string;
      reason: OriginBusyReason;
      limitName: string;
      limit: number;
      waitedMs: number;
    },
    options?: McpErrorOptions,
  ) {
    const why =
      details.reason === 'queue-full'
        ? 'the wait queue is full'
        : `no connection came free within ${details.waitedMs} ms`;
    super(
      ErrorCode.ORIGIN_BUSY,
      `${details.origin} is busy (${details.limitName} = ${details.limit}): ${why}`,
      true,
      options,
    );
    this.origin = details.origin;
    this.reason = details.reason;
    this.limitName = details.limitName;
    this.limit = details.limit;
    this.waitedMs = details.waitedMs;
  }
}

/** A response body over the configured limit; it was not read further. */
export class ResponseTooLargeError extends McpConnectionError {
  override name = 'ResponseTooLargeError';
  readonly limit: number;

  constructor(limit: number, options?: McpErrorOptions) {
    super(
      ErrorCode.RESPONSE_TOO_LARGE,
      `Response body exceeds the limit of ${limit} bytes`,
      false,
      options,
    );
    this.limit = limit;
  }
}

/** The network failed under a request (connect refused, reset, TLS). `cause` is the original. */
export class TransportError extends McpConnectionError {
  override name = 'TransportError';

  constructor(message: string, options?: McpErrorOptions) {
    super(ErrorCode.TRANSPORT, message, true, options);
  }
}

/** A stream that kept breaking: reconnection gave up after `attempts` tries. */
export class ReconnectFailedError extends McpConnectionError {
  override name = 'ReconnectFailedError';
  readonly attempts: number;

  constructor(attempts: number, options?: McpErrorOptions) {
    super(
      ErrorCode.RECONNECT_FAILED,
      `Stream could not be resumed after ${attempts} attempts`,
      true,
      options,
    );
    this.attempts = attempts;
  }
}

export interface OptionIssue {
  path: string;
  message: string;
}

/** Options that failed validation. `issues` names each bad option by its path. */
export class InvalidOptionsError extends McpConnectionError {
  override name = 'InvalidOptionsError';
  readonly issues: readonly OptionIssue[];

  constructor(what: string, issues: readonly OptionIssue[], options?: McpErrorOptions) {
    super(
      ErrorCode.INVALID_OPTIONS,
      `Invalid ${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
      false,
      options,
    );
    this.issues = issues;
  }
}

/** An SSE peer sent one line or event longer than the reader's buffer limit. */
export class SseBufferOverflowError extends ProtocolError {
  override name = 'SseBufferOverflowError';
  readonly maxBufferSize: number;

  constructor(maxBufferSize: number, options?: McpErrorOptions) {
    super(
      ErrorCode.SSE_BUFFER_OVERFLOW,
      `SSE event exceeds the buffer limit of ${maxBufferSize} characters`,
      false,
      options,
    );
    this.maxBufferSize = maxBufferSize;
  }
}

/** An SSE field that cannot be written: an `id` or `event` with a line break, a bad `retry`. */
export class InvalidSseFieldError extends McpConnectionError {
  override name = 'InvalidSseFieldError';
  readonly field: 'id' | 'event' | 'retry';

  constructor(field: 'id' | 'event' | 'retry', detail: string, options?: McpErrorOptions) {
    super(ErrorCode.INVALID_SSE_FIELD, `Invalid SSE ${field}: ${detail}`, false, options);
    this.field = field;
  }
}

/**
 * A legacy (2024-11-05) HTTP+SSE server announced a message endpoint on another origin than its
 * SSE stream. Posting there could leak the session to a third party, so it is refused.
 */
export class EndpointOriginError extends ProtocolError {
  override name = 'EndpointOriginError';
  readonly endpoint: string;
  readonly expectedOrigin: string;

  constructor(endpoint: string, expectedOrigin: string, options?: McpErrorOptions) {
    super(
      ErrorCode.ENDPOINT_ORIGIN,
      `Endpoint ${JSON.stringify(endpoint)} is not on the SSE stream's origin ${expectedOrigin}`,
      false,
      options,
    );
    this.endpoint = endpoint;
    this.expectedOrigin = expectedOrigin;
  }
}

/** The caller asked for something this transport does not offer (`feature` names it). */
export class UnsupportedError extends McpConnectionError {
  override name = 'UnsupportedError';
  readonly feature: string;

  constructor(feature: string, detail: string, options?: McpErrorOptions) {
    super(ErrorCode.UNSUPPORTED, `${feature} is not supported: ${detail}`, false, options);
    this.feature = feature;
  }
}

/** A call made in the wrong state, e.g. sending before `start()` or starting twice. */
export class InvalidStateError extends McpConnectionError {
  override name = 'InvalidStateError';

  constructor(message: string, options?: McpErrorOptions) {
    super(ErrorCode.INVALID_STATE, message, false, options);
  }
}

/**
 * The server does not speak the era the connection was pinned to (`era: '2026-07-28'` and no
 * usable `server/discover` answer). `supportedVersions` lists what the server offered, if any.
 */
export class EraNegotiationError extends McpConnectionError {
  override name = 'EraNegotiationError';
  readonly requested: string;
  readonly supportedVersions: readonly string[];

  constructor(requested: string, supportedVersions: readonly string[], options?: McpErrorOptions) {
    const offered = supportedVersions.length > 0 ? supportedVersions.join(', ') : 'nothing usable';
    super(
      ErrorCode.ERA_NEGOTIATION,
      `The server does not speak MCP ${requested} (it offered ${offered})`,
      false,
      options,
    );
    this.requested = requested;
    this.supportedVersions = supportedVersions;
  }
}

/** Whether `err` is one of ours (across package copies, by shape rather than identity). */
export function isMcpConnectionError(err: unknown): err is McpConnectionError {
  if (err instanceof McpConnectionError) return true;
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('MCP_');
}

/** The running Node.js is older than these packages need (thrown on import, before undici loads). */
export class UnsupportedNodeError extends McpConnectionError {
  override name = 'UnsupportedNodeError';
  readonly required: string;
  readonly actual: string;

  constructor(required: string, actual: string) {
    super(
      ErrorCode.UNSUPPORTED_NODE,
      `The @mcp packages need Node.js >= ${required}; this is Node.js ${actual}. Install Node.js ${required} or newer (22 LTS from 22.19, or 24).`,
      false,
    );
    this.required = required;
    this.actual = actual;
  }
}
