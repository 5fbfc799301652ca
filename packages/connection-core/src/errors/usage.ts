/**
 * The caller asked for something wrong: bad options, an unwritable SSE field, an unsupported
 * feature, a call in the wrong state, a Node.js too old.
 */
import { ErrorCode, McpConnectionError, type McpErrorOptions } from './base.ts';

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

/** An SSE field that cannot be written: an `id` or `event` with a line break, a bad `retry`. */
export class InvalidSseFieldError extends McpConnectionError {
  override name = 'InvalidSseFieldError';
  readonly field: 'id' | 'event' | 'retry';

  constructor(field: 'id' | 'event' | 'retry', detail: string, options?: McpErrorOptions) {
    super(ErrorCode.INVALID_SSE_FIELD, `Invalid SSE ${field}: ${detail}`, false, options);
    this.field = field;
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
