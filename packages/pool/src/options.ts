import type { Connection } from '@mcp/connection-core';
import type { Dispatcher } from 'undici';
import { z } from 'zod';

/** Four TCP connections carry up to 400 concurrent streams by default. */
export const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 4;
/** undici's own default: streams one connection carries before the pool opens another. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
/** A TCP connection with no stream open this long is closed; the next request reconnects. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** undici's own default PING interval; an unanswered PING closes the connection. */
export const DEFAULT_PING_INTERVAL_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * The default session limit of an origin: half its stream capacity (maxConnectionsPerOrigin x
 * maxConcurrentStreams, 4 x 100 by default, so 200). Each session may hold one stream open for
 * good (its GET server stream); requests need the slots left over.
 */
export function defaultMaxSessionsPerOrigin(
  maxConnectionsPerOrigin: number,
  maxConcurrentStreams: number,
): number {
  return Math.max(1, Math.floor((maxConnectionsPerOrigin * maxConcurrentStreams) / 2));
}

/** What the pool hands a factory, besides the options given to `pool.connection()`. */
export interface PooledConnectionContext {
  /** The URL of the MCP endpoint, as given to `pool.connection()`. */
  url: string;
  /** The shared dispatcher of the URL's origin: every request of the connection must use it. */
  dispatcher: Dispatcher;
}

/**
 * Makes one connection. `options` is what `pool.connection()` got (minus `key`) plus the
 * pool's context. May return a promise; a rejection is reported to every waiting caller, and
 * the next call tries again.
 */
export type ConnectionFactory<O extends object> = (
  url: string,
  options: O & PooledConnectionContext,
) => Connection | Promise<Connection>;

/** Origins spoken to in cleartext HTTP/2 (prior knowledge, h2c) instead of HTTP/1.1. */
export type H2cSelector = boolean | readonly string[] | ((origin: string) => boolean);

const bytes = z.union([z.string(), z.instanceof(Buffer)]);
const bytesList = z.union([bytes, z.array(bytes)]);

const tlsOptionsSchema = z.strictObject({
  ca: bytesList.optional(),
  cert: bytesList.optional(),
  key: bytesList.optional(),
  passphrase: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
  servername: z.string().optional(),
});

export type PoolTlsOptions = z.input<typeof tlsOptionsSchema>;

const h2cOriginSchema = z.string().transform((value, ctx) => {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:') return url.origin;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `not an http: origin: ${JSON.stringify(value)}` });
  return z.NEVER;
});

const isFunction = (value: unknown): boolean => typeof value === 'function';

const positiveInt = z.number().int().min(1);

export const originPoolOptionsSchema = z
  .strictObject({
    maxConnectionsPerOrigin: positiveInt.default(DEFAULT_MAX_CONNECTIONS_PER_ORIGIN),
    maxConcurrentStreams: positiveInt.default(DEFAULT_MAX_CONCURRENT_STREAMS),
    idleTimeoutMs: positiveInt.default(DEFAULT_IDLE_TIMEOUT_MS),
    pingIntervalMs: z.number().int().min(0).default(DEFAULT_PING_INTERVAL_MS),
    connectTimeoutMs: positiveInt.default(DEFAULT_CONNECT_TIMEOUT_MS),
    maxSessionsPerOrigin: positiveInt.optional(),
    tls: tlsOptionsSchema.optional(),
    h2c: z
      .union([
        z.boolean(),
        z.array(h2cOriginSchema),
        z.custom<(origin: string) => boolean>(isFunction, 'expected a function'),
      ])
      .default(false),
    factory: z.custom<ConnectionFactory<object>>(isFunction, 'expected a function').optional(),
  })
  .superRefine((o, ctx) => {
    const streams = o.maxConnectionsPerOrigin * o.maxConcurrentStreams;
    if (o.maxSessionsPerOrigin !== undefined && o.maxSessionsPerOrigin >= streams) {
      // Every stream slot could be held by a server stream, leaving none for requests.
      ctx.addIssue({
        code: 'custom',
        path: ['maxSessionsPerOrigin'],
        message: `must be below maxConnectionsPerOrigin x maxConcurrentStreams (${streams}), so that requests keep stream slots beside each session's server stream`,
      });
    }
  });

export interface OriginPoolOptions<O extends object> {
  /** TCP connections per origin at most. Default 4. */
  maxConnectionsPerOrigin?: number;
  /** HTTP/2 streams per TCP connection at most (lowered by the server's SETTINGS). Default 100. */
  maxConcurrentStreams?: number;
  /** A TCP connection with no stream open this long (ms) is closed. Default 30 000. */
  idleTimeoutMs?: number;
  /** HTTP/2 PING interval (ms); 0 disables. An unanswered PING closes the connection. */
  pingIntervalMs?: number;
  /** Time limit (ms) for a TCP (and TLS) connection to be established. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Sessions per origin at most; past it the least recently used idle one is closed. Must be
   * below maxConnectionsPerOrigin x maxConcurrentStreams. Default: half of that (200).
   */
  maxSessionsPerOrigin?: number;
  /** TLS settings for https: origins. */
  tls?: PoolTlsOptions;
  /** `true` for every http: origin, a list of origins, or a predicate on the origin. */
  h2c?: H2cSelector;
  /** Makes connections. Default: `createHttp2Connection` from `@mcp/http2`. */
  factory?: ConnectionFactory<O>;
}

export type ParsedOriginPoolOptions = z.output<typeof originPoolOptionsSchema>;
