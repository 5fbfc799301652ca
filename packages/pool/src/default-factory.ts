import { createHttp2Connection, type Http2ConnectionOptions } from '@mcp/http2';
import type { ConnectionFactory } from './options.ts';

/**
 * Options of `pool.connection()` with the default factory: those of `createHttp2Connection`
 * but the ones the pool decides (`url`, `dispatcher`) and the ones its dispatcher owns (`tls`,
 * `h2c`).
 */
export type PooledHttp2ConnectionOptions = Omit<
  Http2ConnectionOptions,
  'url' | 'dispatcher' | 'tls' | 'h2c'
>;

/** The default factory: an MCP Streamable HTTP connection riding the origin's dispatcher. */
export const createPooledHttp2Connection: ConnectionFactory<PooledHttp2ConnectionOptions> = (
  _url,
  options,
) => createHttp2Connection(options);
