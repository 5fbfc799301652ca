import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  type Harness,
  INITIALIZE,
  MCP_HEADERS,
  metricValue,
  raw,
  startHarness,
} from './test-support.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('an upstream whose pool budget ran out', () => {
  it('gets 503 with Retry-After and a JSON-RPC error, a warn line naming origin and limit, and a metric', async () => {
    const lines: string[] = [];
    harness = await startHarness(
      { http: 'http1' },
      { pool: { maxHttp1SocketsPerOrigin: 1, maxQueuedPerOrigin: 0 }, logLevel: 'warn' },
      { write: (line: string) => lines.push(line) },
    );
    const client = await connectClient(harness.endpoint);
    // The one request socket is taken by a slow call.
    const slow = client
      .callTool({ name: 'slow', arguments: { ms: 60_000 } }, undefined, { timeout: 120_000 })
      .catch(() => undefined);
    await harness.upstream.waitForSlowCalls(1);

    const refused = await raw(harness.endpoint, {
      headers: MCP_HEADERS,
      body: JSON.stringify(INITIALIZE),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text)).toMatchObject({
      jsonrpc: '2.0',
      id: INITIALIZE.id,
      error: { code: -32603, message: expect.stringContaining('maxHttp1SocketsPerOrigin = 1') },
    });
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.msg?.includes('busy'));
    expect(warning).toMatchObject({
      level: 40,
      origin: new URL(harness.upstream.url).origin,
      limit: 'maxHttp1SocketsPerOrigin',
      limitValue: 1,
      reason: 'queue-full',
    });
    expect(await metricValue(harness.proxy.url, 'mcp_proxy_upstream_busy_total')).toBe(1);
    await client.close();
    await slow;
  });
});
