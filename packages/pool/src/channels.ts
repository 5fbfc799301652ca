import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Channels on which an OriginPool publishes the life of its TCP connections and sessions.
 * Messages are built only when a channel has subscribers.
 */
export const poolChannels = {
  /** A TCP connection to an origin was established. */
  connect: diagnosticsChannel.channel('mcp:pool:connect'),
  /** A TCP connection to an origin ended (idle timeout, GOAWAY, reset, close). */
  disconnect: diagnosticsChannel.channel('mcp:pool:disconnect'),
  /** A TCP connection to an origin could not be established. */
  connectionError: diagnosticsChannel.channel('mcp:pool:connection-error'),
  /** A session was opened (`pool.connection()` made a new connection). */
  sessionOpen: diagnosticsChannel.channel('mcp:pool:session:open'),
  /** A session was closed to make room under `maxSessionsPerOrigin`. */
  sessionEvict: diagnosticsChannel.channel('mcp:pool:session:evict'),
  /** A request failed with OriginBusyError: no socket or stream slot came free in time. */
  originBusy: diagnosticsChannel.channel('mcp:pool:origin-busy'),
} as const;

export interface PoolConnectMessage {
  origin: string;
  /** TCP connections to the origin after the event. */
  connected: number;
}

export interface PoolDisconnectMessage extends PoolConnectMessage {
  /** Why it ended, as undici reported it. */
  error: unknown;
}

export interface PoolSessionMessage {
  origin: string;
  url: string;
  key: string | undefined;
}

export interface OriginBusyMessage {
  origin: string;
  reason: 'queue-full' | 'queue-timeout';
  /** The option that sets the exhausted budget, and its value. */
  limitName: string;
  limit: number;
  waitedMs: number;
}
