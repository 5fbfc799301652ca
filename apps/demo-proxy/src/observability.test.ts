import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  type Harness,
  INITIALIZE,
  MCP_HEADERS,
  metricValue,
  raw,
  startHarness,
  textOf,
} from './test-support.ts';

/** An id the proxy made: 8 base64url characters of randomness per process, '-', a counter. */
const GENERATED_ID = /^[\w-]{8}-[0-9a-z]+$/;

describe('observability and credentials', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('exports Prometheus metrics for requests, latency, sessions and upstream connections', async () => {
    harness = await startHarness();
    const client = await connectClient(harness.endpoint);
    await client.callTool({ name: 'echo', arguments: { text: 'm' } });
    const url = harness.proxy.url;
    expect(
      await metricValue(url, 'mcp_proxy_requests_total', 'method="tools/call",outcome="ok"'),
    ).toBe(1);
    expect(
      await metricValue(url, 'mcp_proxy_request_duration_seconds_count', 'method="tools/call"'),
    ).toBe(1);
    expect(await metricValue(url, 'mcp_proxy_sessions', 'upstream="example"')).toBe(1);
    expect(await metricValue(url, 'mcp_proxy_upstream_connections')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(url, 'mcp_proxy_requests_in_flight')).toBe(0);
    const { text } = await raw(`${url}/metrics`, { method: 'GET' });
    expect(text).toContain('# TYPE mcp_proxy_upstream_streams gauge');
    expect((await raw(`${url}/healthz`, { method: 'GET' })).status).toBe(200);
    expect((await raw(`${url}/readyz`, { method: 'GET' })).status).toBe(200);
    expect((await raw(`${url}/nowhere`, { method: 'GET' })).status).toBe(404);
    // Counted per status: healthz and readyz (200) and the 404, besides the client's requests.
    expect(
      await metricValue(url, 'mcp_proxy_http_responses_total', 'status="200"'),
    ).toBeGreaterThanOrEqual(2);
    expect(await metricValue(url, 'mcp_proxy_http_responses_total', 'status="404"')).toBe(1);
    expect(text).toContain('# TYPE mcp_proxy_http_responses_total counter');
    await client.close();
  });

  it('logs JSON lines carrying the request id each response echoes, and never the Authorization, cookies or session ids', async () => {
    const lines: string[] = [];
    harness = await startHarness(
      {},
      { logLevel: 'debug' },
      { write: (l: string) => lines.push(l) },
    );
    const init = await raw(harness.endpoint, {
      headers: { ...MCP_HEADERS, authorization: 'Bearer SECRET-TOKEN', cookie: 'sid=COOKIE-VALUE' },
      body: JSON.stringify(INITIALIZE),
    });
    const sessionId = init.headers['mcp-session-id'] as string;
    const del = await raw(harness.endpoint, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sessionId, authorization: 'Bearer SECRET-TOKEN' },
    });
    const entries = lines.map((l) => JSON.parse(l) as { msg: string; requestId?: string });
    const initId = init.headers['x-request-id'];
    const deleteId = del.headers['x-request-id'];
    // The proxy's own ids: a random prefix per process, then a counter.
    expect(initId).toMatch(GENERATED_ID);
    expect(deleteId).toMatch(GENERATED_ID);
    expect(initId).not.toBe(deleteId);
    expect(String(initId).slice(0, 8)).toBe(String(deleteId).slice(0, 8));
    // What each request logged carries that request's id.
    const byRequest = (id: unknown) => entries.filter((e) => e.requestId === id).map((e) => e.msg);
    expect(byRequest(initId)).toEqual(['session started', 'request done']);
    expect(byRequest(deleteId)).toEqual(['session ended by the client', 'request done']);
    const log = lines.join('');
    expect(log).not.toContain('SECRET-TOKEN');
    expect(log).not.toContain('COOKIE-VALUE');
    expect(log).not.toContain(sessionId);
  });

  it("keeps a client's x-request-id (echoed and logged) when it looks like an id, else makes one", async () => {
    const lines: string[] = [];
    harness = await startHarness(
      {},
      { logLevel: 'debug' },
      { write: (l: string) => lines.push(l) },
    );
    const url = `${harness.proxy.url}/healthz`;
    const kept = await raw(url, { method: 'GET', headers: { 'x-request-id': 'trace-42.a:b_c' } });
    expect(kept.headers['x-request-id']).toBe('trace-42.a:b_c');
    const made = new Set<unknown>();
    for (const bad of ['has spaces', 'x'.repeat(129), '<script>']) {
      const replaced = await raw(url, { method: 'GET', headers: { 'x-request-id': bad } });
      expect(replaced.headers['x-request-id']).toMatch(GENERATED_ID);
      made.add(replaced.headers['x-request-id']);
    }
    expect(made.size).toBe(3);
    const done = lines
      .map((l) => JSON.parse(l) as { msg: string; requestId?: string })
      .filter((e) => e.msg === 'request done');
    expect(done.map((e) => e.requestId)[0]).toBe('trace-42.a:b_c');
    expect(done).toHaveLength(4);
    expect(lines.join('')).not.toContain('has spaces');
  });

  it('sends Authorization upstream only where the upstream says forwardAuthorization', async () => {
    harness = await startHarness();
    const url = harness.upstream.url;
    await harness.proxy.close();
    // Two proxies in front of the same upstream: one forwarding, one not.
    const { startProxy } = await import('./proxy.ts');
    const { parseProxyConfig } = await import('./config.ts');
    const { createPoolConnector } = await import('./pool-connector.ts');
    const { createLogger } = await import('./logger.ts');
    const config = parseProxyConfig({
      listen: { port: 0 },
      upstreams: [
        { name: 'plain', url, h2c: true },
        {
          name: 'authed',
          url,
          h2c: true,
          forwardAuthorization: true,
          headers: { 'x-api-key': 'k' },
        },
      ],
      // Sessions bound to a client id, so the Authorization may change within a session.
      sessions: { bindingHeader: 'x-client-id' },
      logLevel: 'silent',
    });
    const proxy = await startProxy({
      config,
      logger: createLogger('silent'),
      connector: createPoolConnector(config),
    });
    try {
      const headers = {
        ...MCP_HEADERS,
        'x-client-id': 'c1',
        authorization: 'Bearer downstream-token',
      };
      const plain = await raw(`${proxy.url}/plain/mcp`, {
        headers,
        body: JSON.stringify(INITIALIZE),
      });
      expect(plain.status).toBe(200);
      expect(harness.upstream.authorizations).toEqual([]);
      const authed = await raw(`${proxy.url}/authed/mcp`, {
        headers,
        body: JSON.stringify(INITIALIZE),
      });
      expect(authed.status).toBe(200);
      expect(harness.upstream.authorizations).toEqual(['Bearer downstream-token']);
      const id = authed.headers['mcp-session-id'] as string;
      const list = (authorization?: string) =>
        raw(`${proxy.url}/authed/mcp`, {
          headers: {
            ...MCP_HEADERS,
            'x-client-id': 'c1',
            'mcp-session-id': id,
            ...(authorization === undefined ? {} : { authorization }),
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
        });
      // A rotated token goes upstream with the request that carries it.
      expect((await list('Bearer rotated')).status).toBe(200);
      expect(harness.upstream.authorizations).toEqual([
        'Bearer downstream-token',
        'Bearer rotated',
      ]);
      // A request without Authorization goes upstream without one: never with a stored token.
      expect((await list()).status).toBe(200);
      expect(harness.upstream.authorizations).toHaveLength(2);
      // Another client (another client id) with its own token cannot use the session at all.
      const thief = await raw(`${proxy.url}/authed/mcp`, {
        headers: {
          ...MCP_HEADERS,
          'x-client-id': 'c2',
          authorization: 'Bearer thief',
          'mcp-session-id': id,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
      });
      expect(thief.status).toBe(404);
      expect(harness.upstream.authorizations).not.toContain('Bearer thief');
    } finally {
      await proxy.close();
    }
  });

  it('gives each downstream session its own upstream session', async () => {
    harness = await startHarness();
    const a = await connectClient(harness.endpoint);
    const b = await connectClient(harness.endpoint);
    const idA = (a.transport as StreamableHTTPClientTransport).sessionId;
    const idB = (b.transport as StreamableHTTPClientTransport).sessionId;
    expect(idA).not.toBe(idB);
    expect(harness.upstream.sessionCount).toBe(2);
    expect(textOf(await a.callTool({ name: 'echo', arguments: { text: 'a' } }))).toBe('a');
    expect(textOf(await b.callTool({ name: 'echo', arguments: { text: 'b' } }))).toBe('b');
    await a.close();
    await b.close();
  });
});
