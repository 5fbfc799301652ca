import { Pool } from 'undici';
import type { H2cSelector, ParsedOriginPoolOptions } from './options.ts';

/** Whether `origin` (an http: or https: origin) is spoken to in cleartext HTTP/2. */
export function usesH2c(selector: H2cSelector, origin: string): boolean {
  if (!origin.startsWith('http:')) return false;
  if (typeof selector === 'boolean') return selector;
  if (typeof selector === 'function') return selector(origin);
  return selector.includes(origin);
}

/**
 * The shared undici Pool of one origin: up to `maxConnectionsPerOrigin` TCP connections, each
 * multiplexing up to `maxConcurrentStreams` HTTP/2 streams.
 *
 * - `keepAliveTimeout` is what undici 8 uses to close an HTTP/2 session with no stream open
 *   (checked against a real server in the tests), so idle connections are reaped by undici
 *   itself, without a timer per request or per origin here.
 * - `bodyTimeout` and `headersTimeout` are off: time limits belong to each request (the
 *   connection's deadline), and a quiet server stream must not be cut after 300 s.
 */
export function createOriginDispatcher(
  origin: string,
  options: ParsedOriginPoolOptions,
  h2c: boolean,
): Pool {
  const tls = options.tls;
  // `useH2c` is read by undici's Pool (and its connector) but missing from Pool.Options.
  const poolOptions: Pool.Options & { useH2c: boolean } = {
    connections: options.maxConnectionsPerOrigin,
    allowH2: true,
    useH2c: h2c,
    connectTimeout: options.connectTimeoutMs,
    keepAliveTimeout: options.idleTimeoutMs,
    keepAliveMaxTimeout: options.idleTimeoutMs,
    bodyTimeout: 0,
    headersTimeout: 0,
    h2Options: {
      maxConcurrentStreams: options.maxConcurrentStreams,
      pingInterval: options.pingIntervalMs,
    },
    ...(tls === undefined ? {} : { connect: { ...tls } }),
  };
  return new Pool(origin, poolOptions);
}
