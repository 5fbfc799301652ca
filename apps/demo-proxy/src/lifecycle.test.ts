import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { parseSseStream } from '@mcp/sse';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  type Harness,
  INITIALIZE,
  inFlight,
  MCP_HEADERS,
  metricValue,
  raw,
  rawSession,
  startHarness,
  textOf,
  within,
} from './test-support.ts';

const SLOW_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'slow', arguments: { ms: 60_000 } },
});

/** The one slow call was cancelled upstream, left the proxy, and counted as cancelled. */
async function cancelledUpstream(harness: Harness): Promise<void> {
  const { upstream, proxy } = harness;
  await expect
    .poll(() => upstream.cancelledCount, { message: 'the upstream call was not cancelled' })
    .toBe(1);
  await inFlight(harness, 0, 'the cancelled call');
  const cancelled = 'method="tools/call",outcome="cancelled"';
  expect(await metricValue(proxy.url, 'mcp_proxy_requests_total', cancelled)).toBe(1);
}

describe('proxy lifecycle', () => {
  let harness: Harness | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await harness?.close();
    harness = undefined;
  });

  it('serves HTTP/2 (h2c, by the connection preface) on the same port as HTTP/1.1', async () => {
    harness = await startHarness();
    const session = http2.connect(harness.proxy.url);
    try {
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }>(
          (resolve, reject) => {
            const stream = session.request({
              ':method': 'POST',
              ':path': '/example/mcp',
              ...MCP_HEADERS,
              ...headers,
            });
            let text = '';
            let head: http2.IncomingHttpHeaders = {};
            stream.setEncoding('utf8');
            stream.on('response', (h) => {
              head = h;
            });
            stream.on('data', (c: string) => {
              text += c;
            });
            stream.on('end', () =>
              resolve({ status: Number(head[':status']), headers: head, text }),
            );
            stream.on('error', reject);
            stream.end(JSON.stringify(body));
          },
        );
      const init = await post(INITIALIZE);
      expect(init.status).toBe(200);
      const id = init.headers['mcp-session-id'] as string;
      expect(JSON.parse(init.text).result.serverInfo.name).toBe('example-upstream');
      const call = await post(
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'h2' } },
        },
        { 'mcp-session-id': id },
      );
      expect(call.status).toBe(200);
      expect(JSON.parse(call.text).result.content[0].text).toBe('h2');
      // Client -> proxy over HTTP/1.1 works on the same port meanwhile.
      const client = await connectClient(harness.endpoint);
      clients.push(client);
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'h1' } }))).toBe('h1');
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 whose first byte ("P", as in the HTTP/2 preface) arrives alone', async () => {
    harness = await startHarness();
    const { port } = harness.proxy;
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('P');
    // A slow client's gap (the stimulus, not a wait for anything): "P" may be POST or PRI.
    await new Promise((r) => setTimeout(r, 50));
    socket.write(
      'OST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      text += c;
    });
    await once(socket, 'end');
    expect(text.startsWith('HTTP/1.1 405')).toBe(true);
    socket.destroy();
  });

  // The SDK's abort only sends notifications/cancelled: its HTTP request stays open.
  it('aborts the upstream request when the client sends notifications/cancelled', async () => {
    harness = await startHarness();
    const client = await connectClient(harness.endpoint);
    clients.push(client);
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 60_000 } }, undefined, {
      signal: controller.signal,
    });
    await inFlight(harness, 1, 'the slow call');
    controller.abort('test');
    await expect(call).rejects.toThrow();
    await cancelledUpstream(harness);
    // The session goes on.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe(
      'after',
    );
  });

  it('aborts the upstream request when an HTTP/1.1 client hangs up (no notifications/cancelled)', async () => {
    harness = await startHarness();
    const id = await rawSession(harness.endpoint);
    const controller = new AbortController();
    const call = request(harness.endpoint, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: SLOW_CALL,
      signal: controller.signal,
    });
    await inFlight(harness, 1, 'the slow call');
    controller.abort(); // undici closes the socket: the proxy sees only the hang-up
    await expect(call).rejects.toThrow();
    await cancelledUpstream(harness);
  });

  it('aborts the upstream request when an HTTP/2 client resets its stream', async () => {
    harness = await startHarness();
    const id = await rawSession(harness.endpoint);
    const session = http2.connect(harness.proxy.url);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/example/mcp',
        ...MCP_HEADERS,
        'mcp-session-id': id,
      });
      stream.on('error', () => {});
      stream.end(SLOW_CALL);
      await inFlight(harness, 1, 'the slow call');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await cancelledUpstream(harness);
    } finally {
      session.close();
    }
  });

  it('re-initializes an expired upstream session transparently', async () => {
    harness = await startHarness();
    const client = await connectClient(harness.endpoint);
    clients.push(client);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'one' } }))).toBe('one');
    await harness.upstream.forgetSessions();
    expect(harness.upstream.sessionCount).toBe(0);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'two' } }))).toBe('two');
    expect(harness.upstream.sessionCount).toBe(1);
  });

  it('answers 404 (so the client re-initializes) when the upstream session cannot be renewed', async () => {
    harness = await startHarness();
    const id = await rawSession(harness.endpoint);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': id };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect((await raw(harness.endpoint, { headers, body: list })).status).toBe(200);
    harness.upstream.refuseNewSessions = true;
    await harness.upstream.forgetSessions();
    expect((await raw(harness.endpoint, { headers, body: list })).status).toBe(404);
    // The proxy forgot the session too; a new one works once the upstream takes sessions again.
    expect((await raw(harness.endpoint, { headers, body: list })).status).toBe(404);
    harness.upstream.refuseNewSessions = false;
    const fresh = await rawSession(harness.endpoint);
    const ok = await raw(harness.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': fresh },
      body: list,
    });
    expect(ok.status).toBe(200);
  });

  it('answers a GET 404 when the upstream session is gone and cannot be renewed, 200 when it can', async () => {
    harness = await startHarness();
    const id = await rawSession(harness.endpoint);
    const get = { accept: 'text/event-stream', 'mcp-session-id': id };
    harness.upstream.refuseNewSessions = true;
    await harness.upstream.forgetSessions();
    const refused = await request(harness.endpoint, { method: 'GET', headers: get });
    await refused.body.dump();
    expect(refused.statusCode).toBe(404);
    // Renewable: the GET re-initializes the upstream session and carries its messages.
    harness.upstream.refuseNewSessions = false;
    const renewable = await rawSession(harness.endpoint);
    await harness.upstream.forgetSessions();
    const res = await request(harness.endpoint, {
      method: 'GET',
      headers: { ...get, 'mcp-session-id': renewable },
    });
    expect(res.statusCode).toBe(200);
    const events = parseSseStream(res.body)[Symbol.asyncIterator]();
    expect((await events.next()).value?.data).toBe(''); // priming
    await harness.upstream.waitForGetStreams(1);
    await harness.upstream.broadcast('notifications/message', { level: 'info', data: 'renewed' });
    const event = await within(5_000, events.next(), 'nothing on the renewed stream');
    expect(JSON.parse(event.value?.data ?? '{}')).toMatchObject({ params: { data: 'renewed' } });
    res.body.destroy();
  });

  it('resumes the GET stream with Last-Event-ID from its event buffer', async () => {
    harness = await startHarness();
    const endpoint = harness.endpoint;
    const id = await rawSession(endpoint);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': id };
    const call = (n: number, method: string, params: unknown) =>
      raw(endpoint, { headers, body: JSON.stringify({ jsonrpc: '2.0', id: n, method, params }) });
    await call(2, 'resources/subscribe', { uri: 'example://counter' });

    const openGet = async (lastEventId?: string) => {
      const res = await request(endpoint, {
        method: 'GET',
        headers: {
          accept: 'text/event-stream',
          'mcp-session-id': id,
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
      });
      expect(res.statusCode).toBe(200);
      return { res, events: parseSseStream(res.body)[Symbol.asyncIterator]() };
    };
    // First GET: it opens with a priming event (an id, empty data).
    const first = await openGet();
    const priming = await first.events.next();
    expect(priming.done).toBe(false);
    expect(priming.value?.data).toBe('');
    expect(priming.value?.id).toBe('0');
    // The upstream GET stream opens asynchronously: a notification sent before it is lost.
    await harness.upstream.waitForGetStreams(1);
    await call(10, 'tools/call', { name: 'bump', arguments: {} });
    const got = await first.events.next();
    const firstEvent = got.done ? undefined : got.value;
    expect(firstEvent?.id).toBeDefined();
    first.res.body.destroy();

    // While no GET is open, two more notifications go into the buffer.
    await call(300, 'tools/call', { name: 'bump', arguments: {} });
    await call(301, 'tools/call', { name: 'bump', arguments: {} });
    const second = await openGet(firstEvent?.id);
    const replayed: string[] = [];
    while (replayed.length < 2) {
      const e = await second.events.next();
      if (e.done) break;
      replayed.push(JSON.parse(e.value.data).method);
      expect(Number(e.value.id)).toBeGreaterThan(Number(firstEvent?.id));
    }
    expect(replayed).toEqual([
      'notifications/resources/updated',
      'notifications/resources/updated',
    ]);
    second.res.body.destroy();
  });

  it('sends a server-to-client request to a JSON-only client on its GET stream, and relays the answer', async () => {
    harness = await startHarness();
    const endpoint = harness.endpoint;
    const id = await rawSession(endpoint);
    const get = await request(endpoint, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': id },
    });
    const events = parseSseStream(get.body)[Symbol.asyncIterator]();
    expect((await events.next()).value?.data).toBe(''); // priming
    const call = raw(endpoint, {
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-session-id': id,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'sample', arguments: { prompt: 'json' } },
      }),
    });
    const event = await events.next();
    const sampling = JSON.parse(event.value?.data ?? '{}') as { id: number; method: string };
    expect(sampling.method).toBe('sampling/createMessage');
    const answer = await raw(endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: sampling.id,
        result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'via GET' } },
      }),
    });
    expect(answer.status).toBe(202);
    const result = await call;
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/json');
    expect(JSON.parse(result.text).result.content[0].text).toBe('sampled: via GET');
    get.body.destroy();
  });

  // ~22 s alone; past 60 s inside a full run on the loaded 2-core box: room, not a timing check.
  it('1,000 concurrent requests across 50 sessions use no more upstream TCP connections than configured', {
    timeout: 180_000,
  }, async () => {
    harness = await startHarness({}, { pool: { connectionsPerOrigin: 2 } });
    const { runLoad } = await import('./load.ts');
    const result = await runLoad({
      url: harness.endpoint,
      sessions: 50,
      requests: 1000,
      concurrency: 1000,
      h2c: false,
      tool: 'echo',
      arguments: { text: 'load' },
    });
    expect(result.errors).toBe(0);
    expect(result.upstreamConnections).toBeGreaterThan(0);
    expect(result.upstreamConnections).toBeLessThanOrEqual(2);
    expect(harness.upstream.sessionCount).toBe(0); // runLoad deleted its sessions
  });

  it('the load tool counts a refused initialize as an error and runs on the sessions it opened', async () => {
    harness = await startHarness({}, { sessions: { maxSessionsPerClient: 3 } });
    const { runLoad } = await import('./load.ts');
    const result = await runLoad({
      url: harness.endpoint,
      sessions: 5,
      requests: 30,
      concurrency: 10,
      h2c: false,
      tool: 'echo',
      arguments: { text: 'load' },
    });
    expect(result.errorKinds).toEqual({ 'initialize: HTTP 429': 2 });
    expect(result.errors).toBe(2); // the 30 calls on the 3 sessions all succeeded
    expect(harness.upstream.sessionCount).toBe(0);
  });

  it('ends a session left idle (no traffic, no open stream) on both sides', async () => {
    harness = await startHarness({}, { limits: { sessionIdleTimeoutMs: 300 } });
    const id = await rawSession(harness.endpoint);
    const { upstream } = harness;
    expect(upstream.sessionCount).toBe(1);
    await expect
      .poll(() => upstream.sessionCount, { message: 'the idle session was not ended upstream' })
      .toBe(0);
    const after = await raw(harness.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    expect(await metricValue(harness.proxy.url, 'mcp_proxy_sessions')).toBe(0);
  });

  it('drains in-flight requests on close, then ends upstream sessions', async () => {
    harness = await startHarness();
    const client = await connectClient(harness.endpoint);
    clients.push(client);
    const slow = client.callTool({ name: 'slow', arguments: { ms: 300 } });
    await inFlight(harness, 1, 'the slow call');
    const closed = harness.proxy.close();
    expect(textOf(await slow)).toBe('slept 300 ms');
    expect(await closed).toEqual({ drained: true });
    expect(harness.upstream.sessionCount).toBe(0);
  });
});
