import type { Connection } from '@mcp/connection-core';
import { createHttp2Connection } from '@mcp/http2';
import { OriginPool } from '@mcp/pool';
import type { ProxyConfig, UpstreamConfig } from './config.ts';
import type { OriginTransportStats } from './metrics.ts';
import type { UpstreamConnector } from './upstream-connector.ts';

interface SessionOptions {
  headers: Record<string, string>;
}

/**
 * Upstream sessions from an OriginPool: one `@mcp/http2` Connection per downstream session
 * (pool key = the downstream session id), every Connection to an origin sharing that origin's
 * few TCP connections. Upstream sessions that expire are re-initialized by the Connection.
 */
export function createPoolConnector(config: ProxyConfig): UpstreamConnector {
  const h2cOrigins = [
    ...new Set(config.upstreams.filter((u) => u.h2c).map((u) => new URL(u.url).origin)),
  ];
  const pool = new OriginPool<SessionOptions>({
    maxConnectionsPerOrigin: config.pool.connectionsPerOrigin,
    // The proxy bounds sessions itself; the pool must never evict one of them.
    maxSessionsPerOrigin: config.limits.maxSessions + 1,
    h2c: h2cOrigins,
    factory: (url, options) =>
      createHttp2Connection({
        url,
        dispatcher: options.dispatcher,
        headers: options.headers,
        requestTimeoutMs: config.limits.requestTimeoutMs,
        resetTimeoutOnProgress: true,
        maxConcurrentRequests: config.limits.maxConcurrentRequestsPerSession,
        reinitialize: true,
      }),
  });

  return {
    connect(
      upstream: UpstreamConfig,
      key: string,
      headers: Record<string, string>,
    ): Promise<Connection> {
      return pool.connection(upstream.url, { key, headers });
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
