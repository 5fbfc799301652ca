/**
 * A request that could not finish: its time ran out, the caller aborted, or there was no room
 * for it (a full queue, a session limit, a busy origin).
 */
import { ErrorCode, McpConnectionError, type McpErrorOptions } from './base.ts';

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
