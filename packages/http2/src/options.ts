import {
  LATEST_PROTOCOL_VERSION,
  LEGACY_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSION,
  parseOptions,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { MAX_WINDOW_SIZE } from './flow-control.ts';

/** What a `headers` function is told about the request it is called for. */
export interface HeadersContext {
  /** `POST` for messages, `GET` for streams, `DELETE` when closing the session. */
  method: 'POST' | 'GET' | 'DELETE';
  /** The JSON-RPC method of the message being sent (POST only). */
  rpcMethod: string | undefined;
}

/** Extra headers for each HTTP request, e.g. credentials that rotate. May be async. */
export type HeadersProvider = (
  context: HeadersContext,
) => Record<string, string> | Promise<Record<string, string>>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** With `resetTimeoutOnProgress`: the longest a request may take however much progress it reports. */
export const DEFAULT_MAX_TOTAL_TIMEOUT_MS = 600_000;
/** Largest JSON response body read, in bytes (SSE events have @mcp/sse's own limit, also 16 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 256;
export const DEFAULT_MAX_QUEUED_REQUESTS = 4096;
export const DEFAULT_RECEIVE_QUEUE_CAPACITY = 1024;
export const DEFAULT_RECONNECTION = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 1.5,
  jitter: 0.1,
  maxAttempts: 5,
} as const;

const binary = z.union([z.string(), z.instanceof(Uint8Array)]);
const pem = z.union([binary, z.array(binary)]);

const TlsSchema = z.strictObject({
  ca: pem.optional(),
  cert: pem.optional(),
  key: pem.optional(),
  rejectUnauthorized: z.boolean().optional(),
  servername: z.string().min(1).optional(),
});

const ReconnectionSchema = z.strictObject({
  initialDelayMs: z.number().int().nonnegative().default(DEFAULT_RECONNECTION.initialDelayMs),
  maxDelayMs: z.number().int().nonnegative().default(DEFAULT_RECONNECTION.maxDelayMs),
  factor: z.number().min(1).default(DEFAULT_RECONNECTION.factor),
  jitter: z.number().min(0).max(1).default(DEFAULT_RECONNECTION.jitter),
  maxAttempts: z.number().int().positive().default(DEFAULT_RECONNECTION.maxAttempts),
});

const isDispatcher = (value: unknown): value is Dispatcher =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Dispatcher).dispatch === 'function' &&
  typeof (value as Dispatcher).request === 'function';

const windowSize = z.number().int().positive().max(MAX_WINDOW_SIZE);

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const Http2ConnectionOptionsSchema = z
  .strictObject({
    url: z.union([z.string(), z.instanceof(URL)]).transform((value, ctx) => {
      const url = URL.canParse(String(value)) ? new URL(String(value)) : undefined;
      if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        ctx.addIssue({ code: 'custom', message: 'must be an http: or https: URL' });
        return z.NEVER;
      }
      return url;
    }),
    dispatcher: z
      .custom<Dispatcher>(isDispatcher, { message: 'must be an undici Dispatcher' })
      .optional(),
    h2c: z.boolean().default(false),
    tls: TlsSchema.optional(),
    initialWindowSize: windowSize.optional(),
    connectionWindowSize: windowSize.optional(),
    headers: z
      .union([
        z.record(z.string().regex(headerName, 'not a valid header name'), z.string()),
        z.custom<HeadersProvider>((v) => typeof v === 'function', {
          message: 'must be a record of strings or a function',
        }),
      ])
      .optional(),
    protocolVersion: z.string().min(1).default(LATEST_PROTOCOL_VERSION),
    /**
     * Which MCP era to speak. '2025-11-25' (the default, as SDK v2's): `initialize` as sent.
     * '2026-07-28': `initialize` becomes a `server/discover` probe and the era is stateless;
     * a server without it fails the call with EraNegotiationError. 'auto': the probe first,
     * and `initialize` itself when the server gives no modern answer.
     */
    era: z
      .enum(['auto', MODERN_PROTOCOL_VERSION, LEGACY_PROTOCOL_VERSION])
      .default(LEGACY_PROTOCOL_VERSION),
    requestTimeoutMs: z.number().int().positive().default(DEFAULT_REQUEST_TIMEOUT_MS),
    resetTimeoutOnProgress: z.boolean().default(false),
    maxTotalTimeoutMs: z.number().int().positive().default(DEFAULT_MAX_TOTAL_TIMEOUT_MS),
    maxConcurrentRequests: z.number().int().positive().default(DEFAULT_MAX_CONCURRENT_REQUESTS),
    maxQueuedRequests: z.number().int().nonnegative().default(DEFAULT_MAX_QUEUED_REQUESTS),
    receiveQueueCapacity: z.number().int().positive().default(DEFAULT_RECEIVE_QUEUE_CAPACITY),
    maxResponseBytes: z.number().int().positive().default(DEFAULT_MAX_RESPONSE_BYTES),
    reconnection: ReconnectionSchema.prefault({}),
    serverStream: z.enum(['auto', 'on-demand']).or(z.literal(false)).default('auto'),
    /**
     * Replay `initialize` once when the session expired (404), then retry: true; 'requests': only
     * for requests, notifications and responses (a GET stream answered 404 ends as
     * 'session-expired', for its caller to decide); false: never.
     */
    reinitialize: z.union([z.boolean(), z.literal('requests')]).default(false),
    endSessionOnClose: z.boolean().default(true),
  })
  .superRefine((o, ctx) => {
    if (o.h2c && o.url.protocol === 'https:') {
      ctx.addIssue({ code: 'custom', path: ['h2c'], message: 'h2c needs an http: URL' });
    }
    if (o.dispatcher !== undefined && o.tls !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: 'configure TLS on the dispatcher you pass, not here',
      });
    }
    for (const name of ['initialWindowSize', 'connectionWindowSize'] as const) {
      if (o.dispatcher !== undefined && o[name] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'configure flow control on the dispatcher you pass, not here',
        });
      }
    }
  });

export type Http2ConnectionOptions = z.input<typeof Http2ConnectionOptionsSchema>;
export type ResolvedHttp2ConnectionOptions = z.output<typeof Http2ConnectionOptionsSchema>;
export type ReconnectionOptions = z.output<typeof ReconnectionSchema>;
export type TlsOptions = z.output<typeof TlsSchema>;

export function parseHttp2ConnectionOptions(input: unknown): ResolvedHttp2ConnectionOptions {
  return parseOptions(Http2ConnectionOptionsSchema, input, 'HTTP/2 connection options');
}
