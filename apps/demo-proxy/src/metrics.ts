import { Counter, Gauge, Registry } from 'prom-client';
import { type RequestStats, RequestStatsTable, ResponseCounts } from './request-stats.ts';

/** One upstream origin's TCP connections and streams, as the pool reports them. */
export interface OriginTransportStats {
  origin: string;
  connections: number;
  streams: number;
}

/** The MCP methods that get their own label value; anything else is counted as "other". */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'tasks/cancel',
  'tasks/result',
]);

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

export type RequestOutcome =
  | 'ok'
  | 'jsonrpc_error'
  | 'timeout'
  | 'cancelled'
  | 'session_expired'
  | 'upstream_busy'
  | 'buffer_exceeded'
  | 'upstream_error';

/** The proxy's Prometheus metrics, on a Registry of its own. */
export class ProxyMetrics {
  readonly registry = new Registry();
  /** Requests total, in flight and their durations: plain counts read at scrape time. */
  readonly #requests = new RequestStatsTable();
  readonly sessions: Gauge<'upstream'>;
  /** HTTP responses sent downstream, by status (`mcp_proxy_http_responses_total`). */
  readonly httpResponses = new ResponseCounts();
  readonly relayedMessages: Counter<'upstream' | 'kind'>;
  readonly upstreamBusy: Counter<'upstream' | 'limit' | 'reason'>;
  readonly edgeLimits: Counter<'limit'>;
  readonly sessionRejections: Counter<'reason'>;
  readonly sessionsReclaimed: Counter<'upstream'>;

  constructor(transportStats: () => readonly OriginTransportStats[]) {
    const registers = [this.registry];
    this.#requests.register(this.registry);
    this.sessions = new Gauge({
      name: 'mcp_proxy_sessions',
      help: 'Open downstream sessions (each with its own upstream session).',
      labelNames: ['upstream'],
      registers,
    });
    this.httpResponses.register(this.registry);
    this.relayedMessages = new Counter({
      name: 'mcp_proxy_relayed_messages_total',
      help: 'Messages relayed downstream besides responses: related (on a request stream) or server (GET stream).',
      labelNames: ['upstream', 'kind'],
      registers,
    });
    this.upstreamBusy = new Counter({
      name: 'mcp_proxy_upstream_busy_total',
      help: 'Upstream messages refused with 503 because a pool budget of the origin ran out.',
      labelNames: ['upstream', 'limit', 'reason'],
      registers,
    });
    this.edgeLimits = new Counter({
      name: 'mcp_proxy_edge_limits_total',
      help: 'Times an edge limit acted (connection cap, timeouts, stream resets, buffers), by limit.',
      labelNames: ['limit'],
      registers,
    });
    this.sessionRejections = new Counter({
      name: 'mcp_proxy_session_rejections_total',
      help: 'Session requests refused for who sent them: client_quota, credentials, stream_open, replay_refused.',
      labelNames: ['reason'],
      registers,
    });
    this.sessionsReclaimed = new Counter({
      name: 'mcp_proxy_sessions_reclaimed_total',
      help: "Sessions ended to make room at their client's quota: ones the client had left (GET stream closed, unused since).",
      labelNames: ['upstream'],
      registers,
    });
    new Gauge({
      name: 'mcp_proxy_upstream_connections',
      help: 'Upstream TCP connections open, by origin (from the pool).',
      labelNames: ['origin'],
      registers,
      collect() {
        this.reset();
        for (const s of transportStats()) this.set({ origin: s.origin }, s.connections);
      },
    });
    new Gauge({
      name: 'mcp_proxy_upstream_streams',
      help: 'Upstream HTTP/2 streams (or HTTP/1.1 requests) in use, by origin (from the pool).',
      labelNames: ['origin'],
      registers,
      collect() {
        this.reset();
        for (const s of transportStats()) this.set({ origin: s.origin }, s.streams);
      },
    });
  }

  /** The counts of relayed requests of `upstream` and `method` (see `methodLabel`). */
  requestStats(upstream: string, method: string): RequestStats {
    return this.#requests.get(upstream, method);
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
