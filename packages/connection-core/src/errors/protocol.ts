/** The peer broke the protocol, or does not speak the era asked for. */
import { ErrorCode, McpConnectionError, type McpErrorOptions } from './base.ts';

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
