import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import {
  ConnectionMetrics,
  LATENCY_BUCKET_BOUNDS_MS,
  type RequestEndMessage,
  sumMetricsSnapshots,
} from './metrics.ts';

describe('ConnectionMetrics', () => {
  it('counts requests, failures by code, notifications and bytes', () => {
    const m = new ConnectionMetrics('http://x/mcp');
    const a = m.requestStarted('tools/call');
    const b = m.requestStarted('tools/call');
    const c = m.requestStarted('tools/list');
    expect(m.inFlight).toBe(3);
    m.requestSucceeded('tools/call', a);
    m.requestFailed('tools/call', b, 'MCP_TIMEOUT');
    m.requestFailed('tools/list', c, 'MCP_TIMEOUT');
    m.notificationSent('notifications/initialized');
    m.notificationReceived('notifications/progress');
    m.bytesSent(10);
    m.bytesReceived(32);
    const s = m.snapshot();
    expect(s.requests).toEqual({
      started: 3,
      succeeded: 1,
      failed: 2,
      failedByCode: { MCP_TIMEOUT: 2 },
      inFlight: 0,
    });
    expect(m.failures('MCP_TIMEOUT')).toBe(2);
    expect(m.failures('MCP_SESSION_EXPIRED')).toBe(0);
    expect(s.notifications).toEqual({ sent: 1, received: 1 });
    expect(s.bytes).toEqual({ sent: 10, received: 32 });
    expect(s.latencyMs.count).toBe(3);
    expect(s.latencyMs.p99).toBeLessThanOrEqual(s.latencyMs.max);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('reads quantiles within a bucket of the truth', () => {
    const m = new ConnectionMetrics('t');
    // Feed known latencies by back-dating the start time.
    for (let ms = 1; ms <= 100; ms++) m.requestSucceeded('x', performance.now() - ms);
    const { p50, p90, p99, max } = m.snapshot().latencyMs;
    expect(p50).toBeGreaterThanOrEqual(50);
    expect(p50).toBeLessThan(50 * 1.13);
    expect(p90).toBeGreaterThanOrEqual(90);
    expect(p90).toBeLessThan(90 * 1.13);
    expect(p99).toBeGreaterThanOrEqual(99);
    expect(max).toBeGreaterThanOrEqual(100);
    expect(p99).toBeLessThanOrEqual(max);
  });

  it('has increasing bucket bounds ending in infinity', () => {
    for (let i = 1; i < LATENCY_BUCKET_BOUNDS_MS.length; i++) {
      expect(LATENCY_BUCKET_BOUNDS_MS[i]).toBeGreaterThan(
        LATENCY_BUCKET_BOUNDS_MS[i - 1] as number,
      );
    }
    expect(LATENCY_BUCKET_BOUNDS_MS.at(-1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('publishes request ends on a diagnostics channel', () => {
    const seen: RequestEndMessage[] = [];
    const listener = (msg: unknown) => seen.push(msg as RequestEndMessage);
    diagnosticsChannel.subscribe('mcp:connection:request:end', listener);
    try {
      const m = new ConnectionMetrics('http://y/mcp');
      m.requestFailed('ping', m.requestStarted('ping'), 'MCP_ABORTED');
    } finally {
      diagnosticsChannel.unsubscribe('mcp:connection:request:end', listener);
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      target: 'http://y/mcp',
      method: 'ping',
      errorCode: 'MCP_ABORTED',
    });
  });

  it('sums snapshots', () => {
    const a = new ConnectionMetrics('a');
    const b = new ConnectionMetrics('b');
    a.requestSucceeded('x', a.requestStarted('x') - 5);
    b.requestFailed('x', b.requestStarted('x') - 50, 'MCP_TRANSPORT');
    b.requestStarted('y');
    const s = sumMetricsSnapshots([a.snapshot(), b.snapshot()]);
    expect(s.requests).toMatchObject({ started: 3, succeeded: 1, failed: 1, inFlight: 1 });
    expect(s.requests.failedByCode).toEqual({ MCP_TRANSPORT: 1 });
    expect(s.latencyMs.count).toBe(2);
    expect(s.latencyMs.max).toBeGreaterThanOrEqual(50);
  });
});
