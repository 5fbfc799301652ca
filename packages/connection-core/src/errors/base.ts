/** The base class of every error, the stable codes, and the check that works across copies. */

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

/** Whether `err` is one of ours (across package copies, by shape rather than identity). */
export function isMcpConnectionError(err: unknown): err is McpConnectionError {
  if (err instanceof McpConnectionError) return true;
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('MCP_');
}
