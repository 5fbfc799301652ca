import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  type Harness,
  INITIALIZE,
  inFlight,
  MCP_HEADERS,
  raw,
  rawSession,
  startHarness,
  textOf,
} from './test-support.ts';

describe('bad input gets a clear answer and nothing else is disturbed', () => {
  let harness: Harness;
  let client: Client;
  let endpoint: string;

  beforeAll(async () => {
    harness = await startHarness(
      {},
      { limits: { maxBodyBytes: 4096, maxSessions: 3, maxConcurrentRequestsPerSession: 1 } },
    );
    endpoint = harness.endpoint;
    client = await connectClient(endpoint);
  });
  afterAll(async () => {
    await client?.close();
    await harness?.close();
  });

  const stillWorks = async (): Promise<void> => {
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok');
  };
  const tools = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' });

  it('403 for a foreign Host or Origin (DNS rebinding guard on loopback)', async () => {
    const host = await raw(endpoint, {
      headers: { ...MCP_HEADERS, host: 'evil.example' },
      body: tools,
    });
    expect(host.status).toBe(403);
    const origin = await raw(endpoint, {
      headers: { ...MCP_HEADERS, origin: 'https://evil.example' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(origin.status).toBe(403);
    const local = await raw(`${harness.proxy.url}/healthz`, {
      method: 'GET',
      headers: { origin: 'http://localhost:5173' },
    });
    expect(local.status).toBe(200);
    await stillWorks();
  });

  it('413 for a body over the limit', async () => {
    const big = JSON.stringify({
      ...INITIALIZE,
      params: { ...INITIALIZE.params, pad: 'x'.repeat(10_000) },
    });
    const res = await raw(endpoint, { headers: MCP_HEADERS, body: big });
    expect(res.status).toBe(413);
    await stillWorks();
  });

  it('400 with -32700 for malformed JSON', async () => {
    const res = await raw(endpoint, { headers: MCP_HEADERS, body: '{"jsonrpc": "2.0", "id": 1,' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe(-32700);
    await stillWorks();
  });

  it('400 with -32600 for JSON that is not a JSON-RPC message', async () => {
    const res = await raw(endpoint, { headers: MCP_HEADERS, body: '{"hello":"world"}' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe(-32600);
  });

  it('415 for a wrong Content-Type', async () => {
    const res = await raw(endpoint, {
      headers: { ...MCP_HEADERS, 'content-type': 'text/plain' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(415);
    await stillWorks();
  });

  it('406 for an Accept allowing neither JSON nor SSE', async () => {
    const res = await raw(endpoint, {
      headers: { ...MCP_HEADERS, accept: 'text/html' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(406);
    await stillWorks();
  });

  it('405 for a wrong method, 404 for an unknown path or session, 400 without a session', async () => {
    const put = await raw(endpoint, { method: 'PUT', headers: MCP_HEADERS, body: tools });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST, DELETE');
    expect(
      (await raw(`${harness.proxy.url}/nope/mcp`, { headers: MCP_HEADERS, body: tools })).status,
    ).toBe(404);
    const unknown = await raw(endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': 'not-a-session' },
      body: tools,
    });
    expect(unknown.status).toBe(404);
    expect((await raw(endpoint, { headers: MCP_HEADERS, body: tools })).status).toBe(400);
    const badVersion = await raw(endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '1999-01-01' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(badVersion.status).toBe(400);
    await stillWorks();
  });

  it('429 with Retry-After past the per-session concurrency limit', async () => {
    const id = await rawSession(endpoint);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': id };
    const slow = raw(endpoint, {
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 60_000 } },
      }),
    });
    await inFlight(harness, 1, 'the slow call');
    const second = await raw(endpoint, { headers, body: tools });
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    await stillWorks();
    await raw(endpoint, { method: 'DELETE', headers });
    // Ending the session ends the slow call too: its session is gone.
    const ended = await slow;
    expect(ended.status).toBe(404);
    expect(JSON.parse(ended.text)).toMatchObject({
      id: 1,
      error: { message: 'Session not found' },
    });
  });

  it('503 with Retry-After past the session limit', async () => {
    const a = await rawSession(endpoint);
    const b = await rawSession(endpoint);
    const over = await raw(endpoint, { headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) });
    expect(over.status).toBe(503);
    expect(over.headers['retry-after']).toBe('5');
    await stillWorks();
    for (const id of [a, b])
      await raw(endpoint, { method: 'DELETE', headers: { 'mcp-session-id': id } });
  });

  it('does not forward Authorization by default, and keeps credentials and session ids out of /metrics', async () => {
    const secret = { authorization: 'Bearer BAD-INPUT-TOKEN', cookie: 'sid=BAD-INPUT-COOKIE' };
    const init = await raw(endpoint, {
      headers: { ...MCP_HEADERS, ...secret },
      body: JSON.stringify(INITIALIZE),
    });
    expect(init.status).toBe(200);
    const id = init.headers['mcp-session-id'] as string;
    const list = await raw(endpoint, {
      headers: { ...MCP_HEADERS, ...secret, 'mcp-session-id': id },
      body: tools,
    });
    expect(list.status).toBe(200);
    // This upstream has no forwardAuthorization: it received no Authorization at all.
    expect(harness.upstream.authorizations).toEqual([]);
    const metrics = await raw(`${harness.proxy.url}/metrics`, { method: 'GET' });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('mcp_proxy_requests_total');
    expect(metrics.text).not.toContain('BAD-INPUT');
    expect(metrics.text).not.toContain(id);
    expect(metrics.text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    await raw(endpoint, { method: 'DELETE', headers: { 'mcp-session-id': id } });
  });
});

describe('upstream stream capacity', () => {
  it('answers 503 past the sessions an origin can hold (one server stream each), others unaffected', async () => {
    const harness = await startHarness(
      {},
      { pool: { connectionsPerOrigin: 1, maxConcurrentStreams: 4 } },
    );
    try {
      expect(harness.proxy.context.connector.maxSessionsPerOrigin).toBe(2);
      const a = await rawSession(harness.endpoint);
      await rawSession(harness.endpoint);
      const over = await raw(harness.endpoint, {
        headers: MCP_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      expect(over.status).toBe(503);
      expect(over.headers['retry-after']).toBe('5');
      const call = await raw(harness.endpoint, {
        headers: { ...MCP_HEADERS, 'mcp-session-id': a },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'x' } },
        }),
      });
      expect(call.status).toBe(200);
      await raw(harness.endpoint, { method: 'DELETE', headers: { 'mcp-session-id': a } });
      expect(
        (await raw(harness.endpoint, { headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) }))
          .status,
      ).toBe(200);
    } finally {
      await harness.close();
    }
  });
});

describe('proxy-wide concurrency limit', () => {
  it('answers 503 with Retry-After past maxConcurrentRequests; sessions work again after', async () => {
    const harness = await startHarness({}, { limits: { maxConcurrentRequests: 1 } });
    try {
      const a = await rawSession(harness.endpoint);
      const b = await rawSession(harness.endpoint);
      const call = (id: string, n: number, name: string, args: unknown) =>
        raw(harness.endpoint, {
          headers: { ...MCP_HEADERS, 'mcp-session-id': id },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: n,
            method: 'tools/call',
            params: { name, arguments: args },
          }),
        });
      const slow = call(a, 1, 'slow', { ms: 60_000 });
      await inFlight(harness, 1, 'the slow call');
      const over = await call(b, 2, 'echo', { text: 'x' });
      expect(over.status).toBe(503);
      expect(over.headers['retry-after']).toBe('1');
      await raw(harness.endpoint, { method: 'DELETE', headers: { 'mcp-session-id': a } });
      await slow;
      expect((await call(b, 3, 'echo', { text: 'y' })).status).toBe(200);
    } finally {
      await harness.close();
    }
  });
});
