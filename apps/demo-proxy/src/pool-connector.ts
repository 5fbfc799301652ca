import { readFileSync } from 'node:fs';
import { connectWithFallback } from '@mcp/http2';
import {
  defaultMaxSessionsPerOrigin,
  OriginPool,
  type PooledHttp2ConnectionOptions,
} from '@mcp/pool';
import type { ProxyConfig, UpstreamConfig } from './config.ts';
import { FallbackConnection } from './fallback-connection.ts';
import type { OriginTransportStats } from './metrics.ts';
import type { UpstreamConnector, UpstreamHeaders } from './upstream-connector.ts';

/**
 * Upstream sessions from an OriginPool: one `@mcp/http2` Connection per downstream session
 * (pool key = the downstream session id), every Connection to an origin sharing that origin's
 * few TCP connections. Upstream sessions that expire are re-initialized by the Connection.
 * A server that refuses the initialize POST as a 2024-11-05 HTTP+SSE server does is met
 * through `connectWithFallback` (FallbackConnection).
 */
export function createPoolConnector(config: ProxyConfig): UpstreamConnector {
  const sealed = config.sessions.sealingKeys !== undefined;
  // Off by default when sealed: renewing cannot tell an upstream that forgot the session from
  // a DELETE on another replica. A sealed session's GET cannot hand its client a new token:
  // only requests re-initialize.
  const renew = config.sessions.reinitialize ?? !sealed;
  const reinitialize = renew && sealed ? 'requests' : renew;
  const h2cOrigins = [
    ...new Set(config.upstreams.filter((u) => u.h2c).map((u) => new URL(u.url).origin)),
  ];
  const { connectionsPerOrigin, maxConcurrentStreams, maxQueuedPerOrigin } = config.pool;
  const ca = config.pool.ca.map((path) => readFileSync(path, 'utf8'));
  const tls = ca.length === 0 ? undefined : { ca };
  const maxSessionsPerOrigin = defaultMaxSessionsPerOrigin(
    connectionsPerOrigin,
    maxConcurrentStreams,
  );
  const pool = new OriginPool<PooledHttp2ConnectionOptions>({
    maxConnectionsPerOrigin: connectionsPerOrigin,
    maxConcurrentStreams,
    maxSessionsPerOrigin,
    maxHttp1SocketsPerOrigin: config.pool.maxHttp1SocketsPerOrigin,
    maxHttp1StreamSocketsPerOrigin: config.pool.maxHttp1StreamSocketsPerOrigin,
    ...(maxQueuedPerOrigin === undefined ? {} : { maxQueuedPerOrigin }),
    queueTimeoutMs: config.pool.queueTimeoutMs,
    initialWindowSize: config.pool.initialWindowSize,
    connectionWindowSize: config.pool.connectionWindowSize,
    h2c: h2cOrigins,
    ...(tls === undefined ? {} : { tls }),
  });

  return {
    maxSessionsPerOrigin,
    async connect(upstream: UpstreamConfig, key: string, headers: UpstreamHeaders) {
      const streamable = await pool.connection(upstream.url, {
        key,
        headers,
        requestTimeoutMs: config.limits.requestTimeoutMs,
        resetTimeoutOnProgress: true,
        maxConcurrentRequests: config.limits.maxConcurrentRequestsPerSession,
        // A sealed session lives on after this replica: only the client's DELETE (not this
        // replica closing its connection) ends it upstream.
        reinitialize,
        endSessionOnClose: !sealed,
        // A 2025-11-25 client of a modern-only upstream: initialize becomes discovery there.
        era: upstream.era === '2026-07-28' ? '2026-07-28' : '2025-11-25',
        // The session's GET stream follows the client's (UpstreamStreamFollower).
        serverStream: 'on-demand',
      });
      return new FallbackConnection(streamable, (initialize) =>
        connectWithFallback({
          url: upstream.url,
          headers,
          h2c: upstream.h2c,
          ...(tls === undefined ? {} : { tls }),
          requestTimeoutMs: config.limits.requestTimeoutMs,
          initialize,
        }),
      );
    },
    stats(): OriginTransportStats[] {
      return pool.stats().origins.map((o) => ({
        origin: o.origin,
        connections: o.connected,
        streams: o.running,
      }));
    },
    close(): Promise<void> {
      return pool.close();
    },
  };
}
