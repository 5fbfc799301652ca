import type { Metric, Registry } from 'prom-client';

/** Bounds (seconds) of the request duration histogram's buckets. */
export const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/**
 * The relayed requests of one upstream and method, counted in plain fields: the hot path adds
 * to numbers, and the scrape turns them into Prometheus samples. (prom-client hashes the label
 * set of every `inc()`/`observe()`; five of those per relayed request cost more than the
 * counting.)
 */
export class RequestStats {
  readonly upstream: string;
  readonly method: string;
  inFlight = 0;
  /** Requests ended, by outcome. */
  readonly outcomes = new Map<string, number>();
  /** Durations per bucket (not cumulative); the last slot is past the largest bound. */
  readonly buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  durationSum = 0;
  durationCount = 0;

  constructor(upstream: string, method: string) {
    this.upstream = upstream;
    this.method = method;
  }

  /** One request ended after `seconds`, with `outcome`. */
  ended(outcome: string, seconds: number): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.durationSum += seconds;
    this.durationCount++;
  }
}

/**
 * HTTP responses sent downstream, by status: one slot per status code, counted on the hot path
 * and turned into `mcp_proxy_http_responses_total{status}` at scrape.
 */
export class ResponseCounts {
  readonly #byStatus = new Float64Array(600);

  count(status: number): void {
    if (status >= 100 && status < 600) this.#byStatus[status] = (this.#byStatus[status] ?? 0) + 1;
  }

  register(registry: Registry): void {
    registry.registerMetric(
      scraped(
        'mcp_proxy_http_responses_total',
        'HTTP responses sent to downstream clients, by status code.',
        'counter',
        () => {
          const samples: Sample[] = [];
          this.#byStatus.forEach((value, status) => {
            if (value > 0) samples.push({ labels: { status: String(status) }, value });
          });
          return samples;
        },
      ),
    );
  }
}

interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** A metric whose samples are computed at scrape time (prom-client reads `get()`). */
function scraped(name: string, help: string, type: string, samples: () => Sample[]): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: samples() }),
    reset: () => {},
  };
  return metric as unknown as Metric;
}

/** Every upstream and method's RequestStats, and the three metrics made from them. */
export class RequestStatsTable {
  readonly #byKey = new Map<string, RequestStats>();

  /** The stats of `upstream` and `method` (a label value: see `methodLabel`). */
  get(upstream: string, method: string): RequestStats {
    const key = `${upstream}\u0000${method}`;
    let stats = this.#byKey.get(key);
    if (stats === undefined) {
      stats = new RequestStats(upstream, method);
      this.#byKey.set(key, stats);
    }
    return stats;
  }

  register(registry: Registry): void {
    const all = () => [...this.#byKey.values()];
    registry.registerMetric(
      scraped(
        'mcp_proxy_requests_total',
        'JSON-RPC requests relayed upstream, by upstream, method and outcome.',
        'counter',
        () =>
          all().flatMap((s) =>
            [...s.outcomes].map(([outcome, value]) => ({
              labels: { upstream: s.upstream, method: s.method, outcome },
              value,
            })),
          ),
      ),
    );
    registry.registerMetric(
      scraped(
        'mcp_proxy_requests_in_flight',
        'JSON-RPC requests waiting for their upstream response.',
        'gauge',
        () => {
          const byUpstream = new Map<string, number>();
          for (const s of all()) {
            byUpstream.set(s.upstream, (byUpstream.get(s.upstream) ?? 0) + s.inFlight);
          }
          return [...byUpstream].map(([upstream, value]) => ({ labels: { upstream }, value }));
        },
      ),
    );
    const name = 'mcp_proxy_request_duration_seconds';
    registry.registerMetric(
      scraped(
        name,
        'Time from a request reaching the proxy to its response, in seconds.',
        'histogram',
        () => all().flatMap((s) => histogramSamples(name, s)),
      ),
    );
  }
}

function histogramSamples(name: string, s: RequestStats): Sample[] {
  const labels = { upstream: s.upstream, method: s.method };
  const samples: Sample[] = [];
  let cumulative = 0;
  DURATION_BUCKETS.forEach((le, i) => {
    cumulative += s.buckets[i] ?? 0;
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  samples.push(
    { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.durationCount },
    { metricName: `${name}_sum`, labels, value: s.durationSum },
    { metricName: `${name}_count`, labels, value: s.durationCount },
  );
  return samples;
}
