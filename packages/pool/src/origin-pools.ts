import { http2ClientFactory } from '@mcp/http2';
import { buildConnector, Pool } from 'undici';
import type { ParsedOriginPoolOptions } from './options.ts';

export type HttpProtocol = 'h1' | 'h2';

/**
 * What every pool of an origin shares:
 *
 * - `keepAliveTimeout` is what undici 8 uses to close an HTTP/2 session with no stream open
 *   (checked against a real server in the tests), so idle connections are reaped by undici
 *   itself, without a timer per request or per origin here.
 * - `bodyTimeout` and `headersTimeout` are off: time limits belong to each request (the
 *   connection's deadline), and a quiet server stream must not be cut after 300 s.
 */
function commonOptions(options: ParsedOriginPoolOptions) {
  return {
    keepAliveTimeout: options.idleTimeoutMs,
    keepAliveMaxTimeout: options.idleTimeoutMs,
    bodyTimeout: 0,
    headersTimeout: 0,
  };
}

/**
 * The HTTP/2 pool of an origin: up to `maxConnectionsPerOrigin` TCP connections. undici takes
 * the smaller of the server's SETTINGS_MAX_CONCURRENT_STREAMS and `h2Options.
 * maxConcurrentStreams` as a connection's stream limit (a server that advertises none gets the
 * ceiling), and opens another connection when every one is full. For an https: origin,
 * `onProtocol` is told what ALPN chose on each connection.
 */
export function createHttp2Pool(
  origin: string,
  options: ParsedOriginPoolOptions,
  h2c: boolean,
  onProtocol: (protocol: HttpProtocol) => void,
): Pool {
  // `useH2c` is read by the connector but missing from its type.
  const connector = buildConnector({
    ...options.tls,
    allowH2: true,
    useH2c: h2c,
    timeout: options.connectTimeoutMs,
  } as unknown as buildConnector.BuildOptions);
  // `useH2c` is read by undici's Pool but missing from Pool.Options.
  const poolOptions: Pool.Options & { useH2c: boolean } = {
    ...commonOptions(options),
    connections: options.maxConnectionsPerOrigin,
    allowH2: true,
    useH2c: h2c,
    h2Options: {
      maxConcurrentStreams: options.maxConcurrentStreams,
      pingInterval: options.pingIntervalMs,
    },
    factory: http2ClientFactory({
      connect: connector,
      h2c,
      maxConcurrentStreams: options.maxConcurrentStreams,
      ...(h2c ? {} : { onProtocol }),
    }),
  };
  return new Pool(origin, poolOptions);
}

/** An HTTP/1.1 pool of an origin: `sockets` TCP connections, one exchange on each at a time. */
export function createHttp1Pool(
  origin: string,
  options: ParsedOriginPoolOptions,
  sockets: number,
): Pool {
  const tls = options.tls;
  return new Pool(origin, {
    ...commonOptions(options),
    connections: sockets,
    allowH2: false,
    connectTimeout: options.connectTimeoutMs,
    ...(tls === undefined ? {} : { connect: { ...tls } }),
  });
}
