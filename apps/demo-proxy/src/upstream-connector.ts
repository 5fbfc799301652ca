import type { Connection } from '@mcp/connection-core';
import type { UpstreamConfig } from './config.ts';
import type { OriginTransportStats } from './metrics.ts';

/**
 * Where sessions get their upstream Connection: one Connection per downstream session (keyed
 * by its id), all Connections to one origin sharing a few TCP connections.
 */
export interface UpstreamConnector {
  connect(
    upstream: UpstreamConfig,
    key: string,
    headers: Record<string, string>,
  ): Promise<Connection>;
  stats(): OriginTransportStats[];
  close(): Promise<void>;
}
