import { Counter, Gauge, Histogram, Registry } from 'prom-client';

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
  | 'upstream_error';

/** The proxy's Prometheus metrics, on a Registry of its own. */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'upstream' | 'method' | 'outcome'>;
  readonly requestDuration: Histogram<'upstream' | 'method'>;
  readonly inFlight: Gauge<'upstream'>;
  readonly sessions: Gauge<'upstream'>;
  readonly httpResponses: Counter<'status'>;
  readonly relayedMessages: Counter<'upstream' | 'kind'>;
  readonly sessionRejections: Counter<'reason'>;

  constructor(transportStats: () => readonly OriginTransportStats[]) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'mcp_proxy_requests_total',
      help: 'JSON-RPC requests relayed upstream, by upstream, method and outcome.',
      labelNames: ['upstream', 'method', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'mcp_proxy_request_duration_seconds',
      help: 'Time from a request reaching the proxy to its response, in seconds.',
      labelNames: ['upstream', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'mcp_proxy_requests_in_flight',
      help: 'JSON-RPC requests waiting for their upstream response.',
      labelNames: ['upstream'],
      registers,
    });
    this.sessions = new Gauge({
      name: 'mcp_proxy_sessions',
      help: 'Open downstream sessions (each with its own upstream session).',
      labelNames: ['upstream'],
      registers,
    });
    this.httpResponses = new Counter({
      name: 'mcp_proxy_http_responses_total',
      help: 'HTTP responses sent to downstream clients, by status code.',
      labelNames: ['status'],
      registers,
    });
    this.relayedMessages = new Counter({
      name: 'mcp_proxy_relayed_messages_total',
      help: 'Messages relayed downstream besides responses: related (on a request stream) or server (GET stream).',
      labelNames: ['upstream', 'kind'],
      registers,
    });
    this.sessionRejections = new Counter({
      name: 'mcp_proxy_session_rejections_total',
      help: 'Session requests refused for who sent them: client_quota, credentials, stream_open, replay_refused.',
      labelNames: ['reason'],
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

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
