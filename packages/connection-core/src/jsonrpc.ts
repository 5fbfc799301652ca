import { z } from 'zod';
import { InvalidMessageError, type InvalidMessageIssue } from './errors.ts';

export const JSONRPC_VERSION = '2.0';

export const JsonRpcIdSchema = z.union([z.string(), z.number().int()]);
const ParamsSchema = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]);

// Loose objects: unknown top-level members are kept, not rejected (a tolerant reader).
export const JsonRpcRequestSchema = z.looseObject({
  jsonrpc: z.literal(JSONRPC_VERSION),
  id: JsonRpcIdSchema,
  method: z.string(),
  params: ParamsSchema.optional(),
});

export const JsonRpcNotificationSchema = z.looseObject({
  jsonrpc: z.literal(JSONRPC_VERSION),
  method: z.string(),
  params: ParamsSchema.optional(),
});

export const JsonRpcResultResponseSchema = z.looseObject({
  jsonrpc: z.literal(JSONRPC_VERSION),
  id: JsonRpcIdSchema,
  result: z.unknown(),
});

export const JsonRpcErrorObjectSchema = z.looseObject({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});

export const JsonRpcErrorResponseSchema = z.looseObject({
  jsonrpc: z.literal(JSONRPC_VERSION),
  // null only where the request's id could not be read (parse error, invalid request).
  id: z.union([JsonRpcIdSchema, z.null()]),
  error: JsonRpcErrorObjectSchema,
});

export type JsonRpcId = z.infer<typeof JsonRpcIdSchema>;
export type JsonRpcRequest = z.infer<typeof JsonRpcRequestSchema>;
export type JsonRpcNotification = z.infer<typeof JsonRpcNotificationSchema>;
export type JsonRpcResultResponse = z.infer<typeof JsonRpcResultResponseSchema>;
export type JsonRpcErrorObject = z.infer<typeof JsonRpcErrorObjectSchema>;
export type JsonRpcErrorResponse = z.infer<typeof JsonRpcErrorResponseSchema>;
export type JsonRpcResponse = JsonRpcResultResponse | JsonRpcErrorResponse;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard JSON-RPC 2.0 error codes. */
export const JsonRpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

export function isJsonRpcRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return 'method' in m && 'id' in m;
}

export function isJsonRpcNotification(m: JsonRpcMessage): m is JsonRpcNotification {
  return 'method' in m && !('id' in m);
}

export function isJsonRpcResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return !('method' in m);
}

export function isJsonRpcErrorResponse(m: JsonRpcMessage): m is JsonRpcErrorResponse {
  return 'error' in m && !('method' in m);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeText(input: string | Uint8Array): string {
  if (typeof input === 'string') return input;
  try {
    return utf8.decode(input);
  } catch (cause) {
    throw new InvalidMessageError('not-utf8', 'bytes are not valid UTF-8', { cause });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidMessageError('not-json', 'not valid JSON', { cause });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `method` a string; `params`, when present, an object or an array. */
function isWellFormedCall(value: Record<string, unknown>): boolean {
  if (typeof value.method !== 'string') return false;
  return !('params' in value) || isPlainObject(value.params) || Array.isArray(value.params);
}

/** An error object: an integer `code` and a string `message` (`data` is free). */
function isErrorObject(error: unknown): boolean {
  return (
    isPlainObject(error) && Number.isSafeInteger(error.code) && typeof error.message === 'string'
  );
}

function isValidId(id: unknown): boolean {
  // Safe integers only, as the schema: a larger number does not survive a JSON round trip.
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id));
}

/**
 * Checks one decoded JSON value. The checks that name a specific mistake come first, so the
 * error says what is wrong; the schema then checks the remaining fields.
 */
export function toJsonRpcMessage(value: unknown): JsonRpcMessage {
  if (Array.isArray(value)) {
    throw new InvalidMessageError('batch', 'expected one message, got an array (a batch)');
  }
  if (!isPlainObject(value)) {
    throw new InvalidMessageError('not-object', `expected an object, got ${describe(value)}`);
  }
  if (value.jsonrpc !== JSONRPC_VERSION) {
    throw new InvalidMessageError(
      'bad-version',
      `"jsonrpc" must be "2.0", got ${describe(value.jsonrpc)}`,
    );
  }
  const hasMethod = 'method' in value;
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if ('id' in value && !isValidId(value.id) && !(hasError && !hasMethod && value.id === null)) {
    throw new InvalidMessageError(
      'bad-id',
      `"id" must be a string or an integer, got ${describe(value.id)}`,
    );
  }
  if (hasResult && hasError) {
    throw new InvalidMessageError('result-and-error', 'a response has both "result" and "error"');
  }
  if (hasMethod && (hasResult || hasError)) {
    throw new InvalidMessageError(
      'method-and-response',
      `a request or notification ("method") must not carry "${hasResult ? 'result' : 'error'}"`,
    );
  }
  if (!hasMethod && !hasResult && !hasError) {
    throw new InvalidMessageError(
      'not-jsonrpc',
      'neither a request/notification ("method") nor a response ("result" or "error")',
    );
  }
  if (!hasMethod && !('id' in value)) {
    throw new InvalidMessageError('bad-id', 'a response must carry an "id"');
  }
  // A result response (the hot path of every client) is fully checked above: version, id,
  // `result` present. Running its schema would check nothing more (a test holds them equal).
  if (!hasMethod && !hasError) return value as JsonRpcMessage;
  // Requests, notifications and error responses that pass the few checks left are what their
  // schema accepts (a test holds them equal); the schema runs only to say what is wrong.
  if (hasMethod ? isWellFormedCall(value) : isErrorObject(value.error)) {
    return value as JsonRpcMessage;
  }
  const schema = hasMethod
    ? 'id' in value
      ? JsonRpcRequestSchema
      : JsonRpcNotificationSchema
    : JsonRpcErrorResponseSchema;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(message)';
    throw new InvalidMessageError('invalid-field', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  // The original value, not zod's copy: the schemas transform nothing, and a copy would drop
  // keys such as `__proto__` that JSON.parse keeps as own properties (a proxy must forward them).
  return value as JsonRpcMessage;
}

/**
 * Parses one JSON-RPC 2.0 message from text or UTF-8 bytes. Returns a typed message or throws
 * InvalidMessageError; never anything else.
 */
export function parseMessage(input: string | Uint8Array): JsonRpcMessage {
  return toJsonRpcMessage(parseJson(decodeText(input)));
}

/**
 * Parses a body that holds one message or a JSON array of them (servers from the batch era,
 * 2025-03-26, may answer with an array). Always returns an array.
 */
export function parseMessages(input: string | Uint8Array): JsonRpcMessage[] {
  const value = parseJson(decodeText(input));
  if (!Array.isArray(value)) return [toJsonRpcMessage(value)];
  if (value.length === 0) throw new InvalidMessageError('empty-batch', 'the array is empty');
  return value.map(toJsonRpcMessage);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** Builds an error response, e.g. for a proxy answering on an upstream's behalf. */
export function jsonRpcError(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcErrorResponse {
  return {
    jsonrpc: JSONRPC_VERSION,
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}

export type { InvalidMessageIssue };
