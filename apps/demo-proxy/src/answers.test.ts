import { once } from 'node:events';
import net from 'node:net';
import { parseSseStream } from '@mcp/sse';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Harness,
  INITIALIZE,
  inFlight,
  MCP_HEADERS,
  metricValue,
  raw,
  rawSession,
  startHarness,
  within,
} from './test-support.ts';

/** Answers the README documents, each checked as the client sees it. */
describe('documented answers', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const call = (id: number, name: string, args: unknown) =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

  it('502 with JSON-RPC error -32603 when the upstream is unreachable', async () => {
    harness = await startHarness();
    await harness.upstream.close();
    const res = await raw(harness.endpoint, {
      headers: MCP_HEADERS,
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32603 } });
  });

  it('502 with -32603 when an open session loses its upstream', async () => {
    harness = await startHarness();
    const id = await rawSession(harness.endpoint);
    await harness.upstream.close();
    const res = await raw(harness.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: call(2, 'echo', { text: 'x' }),
    });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text)).toMatchObject({ id: 2, error: { code: -32603 } });
    expect(
      await metricValue(harness.proxy.url, 'mcp_proxy_requests_total', 'outcome="upstream_error"'),
    ).toBe(1);
  });

  it('JSON-RPC error -32001 when the upstream does not answer within requestTimeoutMs, and the upstream call is cancelled', async () => {
    harness = await startHarness({}, { limits: { requestTimeoutMs: 300 } });
    const id = await rawSession(harness.endpoint);
    const res = await raw(harness.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: call(2, 'slow', { ms: 60_000 }),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ id: 2, error: { code: -32001 } });
    const { upstream } = harness;
    await expect
      .poll(() => upstream.cancelledCount, { message: 'the timed-out call went on upstream' })
      .toBe(1);
    expect(
      await metricValue(harness.proxy.url, 'mcp_proxy_requests_total', 'outcome="timeout"'),
    ).toBe(1);
  });

  // (An anonymous session's second GET gets 409 instead: session-security.test.ts.)
  it("a session owner's new GET replaces its previous one: the old stream ends, the new one gets the events", async () => {
    harness = await startHarness();
    const { endpoint } = harness;
    // Created with credentials, the session is bound to them: its owner may replace its stream.
    const owner = { authorization: 'Bearer owner-token' };
    const init = await raw(endpoint, {
      headers: { ...MCP_HEADERS, ...owner },
      body: JSON.stringify(INITIALIZE),
    });
    const id = init.headers['mcp-session-id'] as string;
    const openGet = async () => {
      const res = await request(endpoint, {
        method: 'GET',
        headers: { accept: 'text/event-stream', 'mcp-session-id': id, ...owner },
      });
      expect(res.statusCode).toBe(200);
      const events = parseSseStream(res.body)[Symbol.asyncIterator]();
      expect((await events.next()).value?.data).toBe(''); // priming
      return { res, events };
    };
    const headers = { ...MCP_HEADERS, ...owner, 'mcp-session-id': id };
    const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
    await raw(endpoint, { headers, body: JSON.stringify(initialized) });
    await raw(endpoint, {
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'resources/subscribe',
        params: { uri: 'example://counter' },
      }),
    });
    const first = await openGet();
    const second = await openGet();
    const ended = await within(5_000, first.events.next(), 'the replaced GET stream did not end');
    expect(ended.done).toBe(true);
    await harness.upstream.waitForGetStreams(1); // a notification sent before is lost
    await raw(endpoint, { headers, body: call(3, 'bump', {}) });
    const event = await within(5_000, second.events.next(), 'no event on the new GET stream');
    expect(JSON.parse(event.value?.data ?? '{}')).toMatchObject({
      method: 'notifications/resources/updated',
    });
    second.res.body.destroy();
  });

  it('/readyz answers 503 once draining starts (on a connection that was busy), 200 before', async () => {
    harness = await startHarness({}, { limits: { drainTimeoutMs: 10_000 } });
    const { proxy, endpoint } = harness;
    expect((await raw(`${proxy.url}/readyz`, { method: 'GET' })).status).toBe(200);
    const id = await rawSession(endpoint);
    // A slow call keeps the drain going; a GET stream keeps this connection open through it.
    const slow = raw(endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: call(2, 'slow', { ms: 60_000 }),
    });
    await inFlight(harness, 1, 'the slow call');
    const socket = net.connect(proxy.port, '127.0.0.1');
    await once(socket, 'connect');
    const reply = collect(socket);
    const path = new URL(endpoint).pathname;
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${id}\r\n\r\n`,
    );
    await reply.until((text) => text.includes('\r\n\r\n'), 'the GET stream opening');
    const closed = proxy.close();
    // Pipelined after the GET (which the shutdown ends): readiness, then the session's end.
    socket.write(
      `GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nDELETE ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: ${id}\r\nContent-Length: 0\r\n\r\n`,
    );
    const text = await reply.until(
      (t) => (t.match(/HTTP\/1\.1 /g) ?? []).length === 3,
      'the answers to /readyz and DELETE',
    );
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '503', '200']);
    expect(text).toContain('{"status":"draining"}');
    expect((await slow).status).toBe(404); // its session ended
    expect(await closed).toEqual({ drained: true });
    socket.destroy();
  });
});

/** Collects what a raw socket receives; `until` waits (5 s at most) for the text to match. */
function collect(socket: net.Socket) {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  return {
    until(done: (text: string) => boolean, what: string): Promise<string> {
      const matched = (async () => {
        while (!done(text)) await once(socket, 'data');
        return text;
      })();
      return within(5_000, matched, what);
    },
  };
}
