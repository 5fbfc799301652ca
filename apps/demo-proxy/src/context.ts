import type { ClientAddressOf } from './client-address.ts';
import type { ProxyConfig } from './config.ts';
import type { EdgeEvent } from './edge-guards.ts';
import type { BridgedCalls } from './era/bridged-calls.ts';
import type { BridgedSessions } from './era/bridged-sessions.ts';
import type { LoadTracker } from './load-tracker.ts';
import type { Logger } from './logger.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { SessionRegistry } from './session-registry.ts';
import type { SessionStore } from './session-store.ts';
import type { UpstreamConnector } from './upstream-connector.ts';
import type { RebindingPolicy } from './validate.ts';

/** What every handler needs, built once by the proxy. */
export interface ProxyContext {
  config: ProxyConfig;
  logger: Logger;
  metrics: ProxyMetrics;
  sessions: SessionRegistry;
  /** Upstream sessions held for 2026-07-28 clients of 2025-11-25-only upstreams. */
  bridged: BridgedSessions;
  /** Bridged calls waiting for their 2026-07-28 client's input (reverse MRTR). */
  bridgedCalls: BridgedCalls;
  /** Where session ids lead: this process's registry, or sealed tokens any replica opens. */
  store: SessionStore;
  connector: UpstreamConnector;
  /** Who a request comes from: its peer, or the client a trusted proxy names. */
  clientAddress: ClientAddressOf;
  rebinding: RebindingPolicy;
  /** Requests in flight across the proxy (for the global concurrency limit and draining). */
  load: LoadTracker;
  /** Counts and logs an edge limit that acted (timeouts, buffers, resets, connection cap). */
  onEdgeLimit: EdgeEvent;
}
