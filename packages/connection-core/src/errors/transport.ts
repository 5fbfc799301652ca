/**
 * The HTTP exchange or the network under it failed: a status, a lost session, a body too large,
 * a cut, a stream that could not be resumed, a closed connection.
 */
import { ErrorCode, McpConnectionError, type McpErrorOptions } from './base.ts';

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

/** The connection was closed, by `close()` or by the peer, before the operation finished. */
export class ConnectionClosedError extends McpConnectionError {
  override name = 'ConnectionClosedError';

  constructor(message = 'Connection is closed', options?: McpErrorOptions) {
    super(ErrorCode.CONNECTION_CLOSED, message, false, options);
  }
}
