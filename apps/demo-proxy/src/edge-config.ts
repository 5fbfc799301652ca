import { z } from 'zod';

/**
 * Limits on what one downstream client can hold at the proxy's edge: connections, streams,
 * time, and bytes waiting for a slow reader. Every limit answers fast (GOAWAY, 408, a closed
 * connection, a JSON-RPC error), with a log line and `mcp_proxy_edge_limits_total{limit}`.
 */
export const EdgeConfigSchema = z.strictObject({
  /**
   * Open downstream connections, all protocols together. Past it, new connections are closed
   * as soon as they are accepted (what nginx does when `worker_connections` run out).
   */
  maxConnections: z.number().int().positive().default(4096),
  /** A connection with no traffic at all for this long is closed (HTTP/2: GOAWAY), in ms. */
  connectionIdleTimeoutMs: z.number().int().positive().default(120_000),
  /** Time a TLS client has to finish its handshake, in ms. */
  handshakeTimeoutMs: z.number().int().positive().default(10_000),
  /** Time a client has to send a whole request body, from its headers, in ms; then 408. */
  bodyTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * A response stream (HTTP/2 stream, HTTP/1.1 socket) on which nothing moves for this long is
   * destroyed, in ms: a client that stops reading. Longer than `limits.requestTimeoutMs`, since
   * a request waiting for its upstream answer sends nothing either.
   */
  writeTimeoutMs: z.number().int().positive().default(90_000),
  /** Stream resets (RST_STREAM) a client may send at once on one HTTP/2 connection. */
  streamResetBurst: z.number().int().positive().default(200),
  /** Resets per second that refill the burst; past it the connection gets GOAWAY. */
  streamResetsPerSecond: z.number().positive().default(20),
  /**
   * Bytes of related messages (progress, logging) one POST may have waiting for a client that
   * reads slowly; past it the exchange ends with a JSON-RPC error and the upstream request is
   * cancelled.
   */
  maxExchangeBufferBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
});

export type EdgeConfig = z.output<typeof EdgeConfigSchema>;
