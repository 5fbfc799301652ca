import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Channels on which every connection publishes its events, for applications to export.
 * Messages are built only when a channel has subscribers.
 */
export const channels = {
  requestStart: diagnosticsChannel.channel('mcp:connection:request:start'),
  requestEnd: diagnosticsChannel.channel('mcp:connection:request:end'),
  notification: diagnosticsChannel.channel('mcp:connection:notification'),
} as const;

export interface RequestStartMessage {
  target: string;
  method: string;
}

export interface RequestEndMessage {
  target: string;
  method: string;
  durationMs: number;
  /** Undefined on success (a JSON-RPC error response is a success of the transport). */
  errorCode: string | undefined;
}

export interface NotificationMessage {
  target: string;
  method: string;
  direction: 'sent' | 'received';
}

/**
 * Upper bounds (ms) of the latency histogram's buckets: log-spaced, each ~12% wider than the
 * last, from 10 µs to ~10 min. Quantiles are read as a bucket's upper bound, so they are
 * within ~12% of the truth; `max` is exact.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let b = 0.01; b < 600_000; b *= 1.12) bounds.push(Number(b.toPrecision(3)));
  bounds.push(Number.POSITIVE_INFINITY);
  return bounds;
})();

const LOG_FACTOR = Math.log(1.12);
const LOG_FIRST = Math.log(0.01);

function bucketIndex(ms: number): number {
  if (!(ms > 0.01)) return 0;
  const i = Math.ceil((Math.log(ms) - LOG_FIRST) / LOG_FACTOR);
  // Rounding of the stored bounds can put a value one bucket off; nudge it into place.
  const last = LATENCY_BUCKET_BOUNDS_MS.length - 1;
  let j = Math.min(i, last);
  while (j > 0 && ms <= (LATENCY_BUCKET_BOUNDS_MS[j - 1] as number)) j--;
  while (j < last && ms > (LATENCY_BUCKET_BOUNDS_MS[j] as number)) j++;
  return j;
}

export interface LatencySnapshot {
  count: number;
  sumMs: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Counts per bucket of LATENCY_BUCKET_BOUNDS_MS, for summing snapshots. */
  buckets: number[];
}

export interface MetricsSnapshot {
  requests: {
    started: number;
    succeeded: number;
    failed: number;
    failedByCode: Record<string, number>;
    inFlight: number;
  };
  notifications: { sent: number; received: number };
  bytes: { sent: number; received: number };
  latencyMs: LatencySnapshot;
}

/**
 * Counters and a latency histogram for one connection. Recording is O(1) and allocates nothing
 * (failure codes are a small fixed set, so their map stops growing after the first of each).
 */
export class ConnectionMetrics {
  readonly target: string;
  #started = 0;
  #succeeded = 0;
  #failed = 0;
  #failedByCode = new Map<string, number>();
  #notificationsSent = 0;
  #notificationsReceived = 0;
  #bytesSent = 0;
  #bytesReceived = 0;
  #buckets = new Float64Array(LATENCY_BUCKET_BOUNDS_MS.length);
  #count = 0;
  #sumMs = 0;
  #maxMs = 0;

  /** `target` names the connection in diagnostics messages (usually its URL). */
  constructor(target: string) {
    this.target = target;
  }

  get inFlight(): number {
    return this.#started - this.#succeeded - this.#failed;
  }

  /** Requests failed with `code` so far (e.g. 'MCP_SESSION_EXPIRED'), without a snapshot. */
  failures(code: string): number {
    return this.#failedByCode.get(code) ?? 0;
  }

  /** Returns the start time to hand back to `requestSucceeded` / `requestFailed`. */
  requestStarted(method: string): number {
    this.#started++;
    if (channels.requestStart.hasSubscribers) {
      channels.requestStart.publish({ target: this.target, method } satisfies RequestStartMessage);
    }
    return performance.now();
  }

  requestSucceeded(method: string, startedAt: number): void {
    this.#succeeded++;
    this.#observe(method, startedAt, undefined);
  }

  requestFailed(method: string, startedAt: number, code: string): void {
    this.#failed++;
    this.#failedByCode.set(code, (this.#failedByCode.get(code) ?? 0) + 1);
    this.#observe(method, startedAt, code);
  }

  notificationSent(method: string): void {
    this.#notificationsSent++;
    this.#publishNotification(method, 'sent');
  }

  notificationReceived(method: string): void {
    this.#notificationsReceived++;
    this.#publishNotification(method, 'received');
  }

  bytesSent(n: number): void {
    this.#bytesSent += n;
  }

  bytesReceived(n: number): void {
    this.#bytesReceived += n;
  }

  snapshot(): MetricsSnapshot {
    const buckets = Array.from(this.#buckets);
    return {
      requests: {
        started: this.#started,
        succeeded: this.#succeeded,
        failed: this.#failed,
        failedByCode: Object.fromEntries(this.#failedByCode),
        inFlight: this.inFlight,
      },
      notifications: { sent: this.#notificationsSent, received: this.#notificationsReceived },
      bytes: { sent: this.#bytesSent, received: this.#bytesReceived },
      latencyMs: latencySnapshot(buckets, this.#count, this.#sumMs, this.#maxMs),
    };
  }

  #observe(method: string, startedAt: number, errorCode: string | undefined): void {
    const ms = performance.now() - startedAt;
    const i = bucketIndex(ms);
    this.#buckets[i] = (this.#buckets[i] as number) + 1;
    this.#count++;
    this.#sumMs += ms;
    if (ms > this.#maxMs) this.#maxMs = ms;
    if (channels.requestEnd.hasSubscribers) {
      channels.requestEnd.publish({
        target: this.target,
        method,
        durationMs: ms,
        errorCode,
      } satisfies RequestEndMessage);
    }
  }

  #publishNotification(method: string, direction: 'sent' | 'received'): void {
    if (channels.notification.hasSubscribers) {
      channels.notification.publish({
        target: this.target,
        method,
        direction,
      } satisfies NotificationMessage);
    }
  }
}

function quantile(buckets: readonly number[], count: number, q: number, max: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] as number;
    if (seen >= rank) return Math.min(LATENCY_BUCKET_BOUNDS_MS[i] as number, max);
  }
  return max;
}

function latencySnapshot(
  buckets: number[],
  count: number,
  sumMs: number,
  max: number,
): LatencySnapshot {
  return {
    count,
    sumMs,
    p50: quantile(buckets, count, 0.5, max),
    p90: quantile(buckets, count, 0.9, max),
    p99: quantile(buckets, count, 0.99, max),
    max,
    buckets,
  };
}

/** Adds snapshots together (e.g. every connection of a pool); quantiles are recomputed. */
export function sumMetricsSnapshots(snapshots: Iterable<MetricsSnapshot>): MetricsSnapshot {
  const failedByCode: Record<string, number> = {};
  const buckets = new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length).fill(0);
  const total = {
    started: 0,
    succeeded: 0,
    failed: 0,
    inFlight: 0,
    sent: 0,
    received: 0,
    bytesSent: 0,
    bytesReceived: 0,
    count: 0,
    sumMs: 0,
    max: 0,
  };
  for (const s of snapshots) {
    total.started += s.requests.started;
    total.succeeded += s.requests.succeeded;
    total.failed += s.requests.failed;
    total.inFlight += s.requests.inFlight;
    total.sent += s.notifications.sent;
    total.received += s.notifications.received;
    total.bytesSent += s.bytes.sent;
    total.bytesReceived += s.bytes.received;
    total.count += s.latencyMs.count;
    total.sumMs += s.latencyMs.sumMs;
    total.max = Math.max(total.max, s.latencyMs.max);
    for (const [code, n] of Object.entries(s.requests.failedByCode)) {
      failedByCode[code] = (failedByCode[code] ?? 0) + n;
    }
    s.latencyMs.buckets.forEach((n, i) => {
      buckets[i] = (buckets[i] as number) + n;
    });
  }
  return {
    requests: {
      started: total.started,
      succeeded: total.succeeded,
      failed: total.failed,
      failedByCode,
      inFlight: total.inFlight,
    },
    notifications: { sent: total.sent, received: total.received },
    bytes: { sent: total.bytesSent, received: total.bytesReceived },
    latencyMs: latencySnapshot(buckets, total.count, total.sumMs, total.max),
  };
}
