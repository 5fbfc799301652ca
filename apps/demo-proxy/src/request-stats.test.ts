import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestStatsTable } from './request-stats.ts';

describe('RequestStatsTable', () => {
  it('exposes requests, requests in flight and a cumulative duration histogram', async () => {
    const table = new RequestStatsTable();
    const registry = new Registry();
    table.register(registry);
    const calls = table.get('up', 'tools/call');
    calls.inFlight = 2;
    calls.ended('ok', 0.003);
    calls.ended('ok', 0.3);
    calls.ended('timeout', 90);
    table.get('up', 'ping').ended('ok', 0.0005);
    const lines = (await registry.metrics()).split('\n');
    expect(lines).toContain(
      'mcp_proxy_requests_total{upstream="up",method="tools/call",outcome="ok"} 2',
    );
    expect(lines).toContain(
      'mcp_proxy_requests_total{upstream="up",method="tools/call",outcome="timeout"} 1',
    );
    expect(lines).toContain('mcp_proxy_requests_in_flight{upstream="up"} 2');
    const bucket = (le: string) =>
      `mcp_proxy_request_duration_seconds_bucket{upstream="up",method="tools/call",le="${le}"}`;
    expect(lines).toContain(`${bucket('0.001')} 0`);
    expect(lines).toContain(`${bucket('0.005')} 1`);
    expect(lines).toContain(`${bucket('0.5')} 2`);
    expect(lines).toContain(`${bucket('60')} 2`);
    expect(lines).toContain(`${bucket('+Inf')} 3`);
    expect(lines).toContain(
      'mcp_proxy_request_duration_seconds_count{upstream="up",method="tools/call"} 3',
    );
    expect(lines).toContain(
      'mcp_proxy_request_duration_seconds_bucket{upstream="up",method="ping",le="0.001"} 1',
    );
    expect(lines.filter((l) => l.startsWith('# TYPE mcp_proxy_request_duration_seconds '))).toEqual(
      ['# TYPE mcp_proxy_request_duration_seconds histogram'],
    );
  });
});
