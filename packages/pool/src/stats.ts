import type { MetricsSnapshot } from '@mcp/connection-core';

/** A snapshot of one origin. */
export interface OriginStats {
  origin: string;
  /** The wire protocol: known at once for http: origins, after the first connection for https:. */
  protocol: 'h1' | 'h2' | undefined;
  /** TCP connections open to the origin. */
  connected: number;
  /** TCP connections open with no stream in flight. */
  free: number;
  /** HTTP/2 streams (requests) in flight on those connections. */
  running: number;
  /** Requests not yet on a stream: waiting for a connection or a free stream slot. */
  pending: number;
  /** Of `pending`, those waiting in the pool's own queue (no connection could take them). */
  queued: number;
  /** Of `queued`, those in the bounded wait queues (every socket or stream slot was busy). */
  waiting: number;
  /** Requests failed with OriginBusyError (`MCP_ORIGIN_BUSY`) since the origin was first used. */
  rejected: number;
  /** Sessions (`Connection` objects) open to the origin, including ones being made. */
  sessions: number;
  /** The metrics of the origin's open connections, summed. */
  metrics: MetricsSnapshot;
}

/** A snapshot of the whole pool: each origin, and the sum over all of them. */
export interface OriginPoolStats {
  origins: OriginStats[];
  total: Omit<OriginStats, 'origin' | 'protocol'>;
}
