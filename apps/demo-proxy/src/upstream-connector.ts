import type { Connection } from '@mcp/connection-core';
import type { HeadersProvider } from '@mcp/http2';
import type { UpstreamConfig } from './config.ts';
import type { OriginTransportStats } from './metrics.ts';

/** Headers for upstream requests: fixed, or read at each request (a rotating credential). */
export type UpstreamHeaders = Record<string, string> | HeadersProvider;

/**
 * Where sessions get their upstream Connection: one Connection per downstream session (keyed
 * by its id), all Connections to one origin sharing a few TCP connections.
 */
export interface UpstreamConnector {
  /** Sessions one upstream origin can hold; the proxy stops opening more there (503). */
  readonly maxSessionsPerOrigin: number;
  connect(upstream: UpstreamConfig, key: string, headers: UpstreamHeaders): Promise<Connection>;
  stats(): OriginTransportStats[];
  close(): Promise<void>;
}
