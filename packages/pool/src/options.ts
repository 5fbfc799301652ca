import type { Connection } from '@mcp/connection-core';
import {
  DEFAULT_CONNECTION_WINDOW_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  MAX_WINDOW_SIZE,
} from '@mcp/http2';
import type { Dispatcher } from 'undici';
import { z } from 'zod';

/** HTTP/2: TCP connections per origin. */
export const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 4;
/**
 * HTTP/2: the ceiling on streams per connection. The server's SETTINGS_MAX_CONCURRENT_STREAMS
 * decides below it; a server that advertises no limit (node:http2's default) gets this many, so
 * 4 connections carry over 16,000 concurrent requests.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 4096;
/** The default wait-queue bound is at least this, however small the HTTP/2 ceiling is set. */
export const MIN_DEFAULT_MAX_QUEUED_PER_ORIGIN = 4096;
/** HTTP/1.1: sockets per origin for requests (POST, DELETE), one exchange on each at a time. */
export const DEFAULT_MAX_HTTP1_SOCKETS_PER_ORIGIN = 256;
/** HTTP/1.1: sockets per origin for server streams (GET), apart from the request sockets. */
export const DEFAULT_MAX_HTTP1_STREAM_SOCKETS_PER_ORIGIN = 256;
/** How long a request may wait for a free socket or stream slot before OriginBusyError. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 10_000;
/** A TCP connection with no stream open this long is closed; the next request reconnects. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** undici's own default PING interval; an unanswered PING closes the connection. */
export const DEFAULT_PING_INTERVAL_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * The default session limit of an origin: half its HTTP/2 stream ceiling (maxConnectionsPerOrigin
 * x maxConcurrentStreams, 4 x 4096 by default, so 8192). Each session may hold one stream open
 * for good (its GET server stream); requests need the slots left over.
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
    maxHttp1SocketsPerOrigin: positiveInt.default(DEFAULT_MAX_HTTP1_SOCKETS_PER_ORIGIN),
    maxHttp1StreamSocketsPerOrigin: positiveInt.default(
      DEFAULT_MAX_HTTP1_STREAM_SOCKETS_PER_ORIGIN,
    ),
    maxQueuedPerOrigin: z.number().int().min(0).optional(),
    queueTimeoutMs: positiveInt.default(DEFAULT_QUEUE_TIMEOUT_MS),
    idleTimeoutMs: positiveInt.default(DEFAULT_IDLE_TIMEOUT_MS),
    pingIntervalMs: z.number().int().min(0).default(DEFAULT_PING_INTERVAL_MS),
    initialWindowSize: positiveInt.max(MAX_WINDOW_SIZE).default(DEFAULT_INITIAL_WINDOW_SIZE),
    connectionWindowSize: positiveInt.max(MAX_WINDOW_SIZE).default(DEFAULT_CONNECTION_WINDOW_SIZE),
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
  })
  .transform((o) => ({
    ...o,
    // Until an origin's first connection is up, every request waits: a burst as large as the
    // HTTP/2 ceiling (16,384 by default) must fit.
    maxQueuedPerOrigin:
      o.maxQueuedPerOrigin ??
      Math.max(
        MIN_DEFAULT_MAX_QUEUED_PER_ORIGIN,
        o.maxConnectionsPerOrigin * o.maxConcurrentStreams,
      ),
  }));

export interface OriginPoolOptions<O extends object> {
  /** HTTP/2: TCP connections per origin at most. Default 4. */
  maxConnectionsPerOrigin?: number;
  /**
   * HTTP/2: the ceiling on streams per TCP connection; the server's
   * SETTINGS_MAX_CONCURRENT_STREAMS decides below it. Default 4096.
   */
  maxConcurrentStreams?: number;
  /** HTTP/1.1: sockets per origin for requests (POST, DELETE). Default 256. */
  maxHttp1SocketsPerOrigin?: number;
  /** HTTP/1.1: sockets per origin for server streams (GET), apart from requests. Default 256. */
  maxHttp1StreamSocketsPerOrigin?: number;
  /**
   * Requests that may wait for a free socket or stream slot, per origin and kind (requests,
   * server streams); past it a request fails at once with OriginBusyError. Default: the larger
   * of 4096 and maxConnectionsPerOrigin x maxConcurrentStreams (16,384), so a burst that fits
   * the HTTP/2 connections also fits the queue while the first connection opens.
   */
  maxQueuedPerOrigin?: number;
  /** How long (ms) a request may wait for a free socket or stream slot. Default 10 000. */
  queueTimeoutMs?: number;
  /** A TCP connection with no stream open this long (ms) is closed. Default 30 000. */
  idleTimeoutMs?: number;
  /** HTTP/2 PING interval (ms); 0 disables. An unanswered PING closes the connection. */
  pingIntervalMs?: number;
  /** HTTP/2: per-stream receive window in bytes. Default 1 MiB (see @mcp/http2, flow control). */
  initialWindowSize?: number;
  /** HTTP/2: per-connection receive window in bytes. Default 10 MiB. */
  connectionWindowSize?: number;
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
