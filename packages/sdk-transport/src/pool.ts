import { randomUUID } from 'node:crypto';
import type { OriginPool, PoolConnectionOptions, PooledHttp2ConnectionOptions } from '@mcp/pool';
import { ConnectionTransport } from './transport.ts';

/**
 * A transport whose connection comes from `pool` when the SDK starts it: every SDK `Client`
 * made this way to one origin shares the pool's few TCP connections. Each transport is its own
 * MCP session, under `options.key` (default: a fresh random key, so two Clients never share a
 * session). The other options go to the pool's factory (with the default factory, those of
 * `createHttp2Connection`).
 */
export function poolTransport<O extends object = PooledHttp2ConnectionOptions>(
  pool: OriginPool<O>,
  url: string,
  options?: PoolConnectionOptions<O>,
): ConnectionTransport {
  const key = options?.key ?? randomUUID();
  return new ConnectionTransport(() =>
    pool.connection(url, { ...options, key } as PoolConnectionOptions<O>),
  );
}
