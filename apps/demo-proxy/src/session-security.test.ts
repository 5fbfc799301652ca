/**
 * Sessions against other clients (issue #13, item 4): a session id alone opens nothing, an
 * open stream cannot be taken, buffered events go only to their own client, and one client
 * cannot take every session slot. Real proxy and SDK upstream on 127.0.0.1; a second client
 * address is 127.0.0.2 (the whole 127/8 is loopback).
 */
import { parseSseStream } from '@mcp/sse';
import { Agent, type Dispatcher, request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type Harness,
  INITIALIZE,
  MCP_HEADERS,
  metricValue,
  startHarness,
} from './test-support.ts';

const fromMain = new Agent({ localAddress: '127.0.0.1' });
const fromOther = new Agent({ localAddress: '127.0.0.2' });
afterAll(async () => {
  await fromMain.close();
  await fromOther.close();
});

interface Call {
  method?: 'POST' | 'GET' | 'DELETE';
  headers?: Record<string, string>;
  body?: unknown;
  via?: Dispatcher;
}

async function call(endpoint: string, c: Call) {
  const res = await request(endpoint, {
    method: c.method ?? 'POST',
    headers: c.headers ?? {},
    ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }),
    dispatcher: c.via ?? fromMain,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** initialize + notifications/initialized with `headers`; resolves the session id. */
async function openSession(
  endpoint: string,
  headers: Record<string, string> = {},
  via: Dispatcher = fromMain,
) {
  const init = await call(endpoint, {
    headers: { ...MCP_HEADERS, ...headers },
    body: INITIALIZE,
    via,
  });
  const id = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof id !== 'string')
    throw new Error(`initialize: HTTP ${init.status} ${init.text}`);
  const done = await call(endpoint, {
    headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': id },
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
    via,
  });
  expect(done.status).toBe(202);
  return id;
}

/** Opens the session's GET stream; its events as an iterator. */
async function openStream(
  endpoint: string,
  id: string,
  headers: Record<string, string> = {},
  via: Dispatcher = fromMain,
) {
  const res = await request(endpoint, {
    method: 'GET',
    headers: { accept: 'text/event-stream', 'mcp-session-id': id, ...headers },
    dispatcher: via,
  });
  const events =
    res.statusCode === 200 ? parseSseStream(res.body)[Symbol.asyncIterator]() : undefined;
  if (!events) await res.body.text();
  return {
    status: res.statusCode,
    events,
    close: () => res.body.destroy(),
  };
}

const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

describe('sessions and credentials', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('answers a session made with credentials only to the same credentials (404 otherwise)', async () => {
    harness = await startHarness();
    const { endpoint } = harness;
    const owner = { authorization: 'Bearer owner' };
    const id = await openSession(endpoint, owner);
    const as = (headers: Record<string, string>) => ({ ...headers, 'mcp-session-id': id });
    const attempts = [
      // Another token, and no token, for each method.
      { headers: { ...MCP_HEADERS, ...as({ authorization: 'Bearer thief' }) }, body: LIST },
      { headers: { ...MCP_HEADERS, ...as({}) }, body: LIST },
      { method: 'GET' as const, headers: { accept: 'text/event-stream', ...as({}) } },
      {
        method: 'GET' as const,
        headers: { accept: 'text/event-stream', 'last-event-id': '0', ...as({}) },
      },
      { method: 'DELETE' as const, headers: as({ authorization: 'Bearer thief' }) },
      { method: 'DELETE' as const, headers: as({}) },
    ];
    for (const attempt of attempts) {
      const res = await call(endpoint, attempt);
      expect(res.status, `${attempt.method ?? 'POST'} ${JSON.stringify(attempt.headers)}`).toBe(
        404,
      );
      expect(JSON.parse(res.text).error.message).toBe('Session not found');
    }
    expect(
      await metricValue(harness.proxy.url, 'mcp_proxy_session_rejections_total', 'credentials'),
    ).toBe(attempts.length);
    // The session is untouched: its owner still uses it, and the upstream session lives.
    const mine = await call(endpoint, { headers: { ...MCP_HEADERS, ...as(owner) }, body: LIST });
    expect(mine.status).toBe(200);
    expect(harness.upstream.sessionCount).toBe(1);
    // A session made without credentials does not answer a request with some either.
    const anonymous = await openSession(endpoint);
    const withToken = await call(endpoint, {
      headers: { ...MCP_HEADERS, authorization: 'Bearer x', 'mcp-session-id': anonymous },
      body: LIST,
    });
    expect(withToken.status).toBe(404);
  });

  it("lets a bound session's owner replace its own GET stream", async () => {
    harness = await startHarness();
    const owner = { authorization: 'Bearer owner' };
    const id = await openSession(harness.endpoint, owner);
    const first = await openStream(harness.endpoint, id, owner);
    expect(first.status).toBe(200);
    expect((await first.events?.next())?.value?.data).toBe(''); // priming
    const second = await openStream(harness.endpoint, id, owner);
    expect(second.status).toBe(200);
    // The first stream was ended by the proxy.
    expect((await first.events?.next())?.done).toBe(true);
    second.close();
  });

  it("refuses a second GET on an anonymous session's open stream (409), and replays only to its own address", async () => {
    harness = await startHarness();
    const { endpoint } = harness;
    const id = await openSession(endpoint);
    const victim = await openStream(endpoint, id);
    expect(victim.status).toBe(200);
    expect((await victim.events?.next())?.value?.data).toBe(''); // priming

    // A JSON-only request whose tool asks the client to sample: the sampling request goes
    // into the event buffer and out on the open GET stream.
    const sampled = call(endpoint, {
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-session-id': id,
      },
      body: {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'sample', arguments: { prompt: 'secret prompt' } },
      },
    });
    const delivered = await victim.events?.next();
    const sampling = JSON.parse(delivered?.value?.data ?? '{}') as { id: number; method: string };
    expect(sampling.method).toBe('sampling/createMessage');

    // Takeover attempts while the stream is open, from the same and another address.
    for (const via of [fromMain, fromOther]) {
      const thief = await openStream(endpoint, id, { 'last-event-id': '0' }, via);
      expect(thief.status).toBe(409);
    }
    expect(
      await metricValue(harness.proxy.url, 'mcp_proxy_session_rejections_total', 'stream_open'),
    ).toBe(2);

    // The victim's stream still carries the session: the answer to the sampling goes through.
    const answer = await call(endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: {
        jsonrpc: '2.0',
        id: sampling.id,
        result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'ok' } },
      },
    });
    expect(answer.status).toBe(202);
    expect(JSON.parse((await sampled).text).result.content[0].text).toBe('sampled: ok');
    victim.close();
    await waitUntil(() => harness?.proxy.context.sessions.peek(id, 'example')?.streaming === false);

    // Once it is closed, another address may open a stream, but gets no replay: it starts at
    // the priming event, not at the buffered sampling request.
    const other = await openStream(endpoint, id, { 'last-event-id': '0' }, fromOther);
    expect(other.status).toBe(200);
    const first = await other.events?.next();
    expect(first?.value?.data).toBe('');
    expect(first?.value?.id).toBe(delivered?.value?.id);
    other.close();
    await waitUntil(() => harness?.proxy.context.sessions.peek(id, 'example')?.streaming === false);
    expect(
      await metricValue(harness.proxy.url, 'mcp_proxy_session_rejections_total', 'replay_refused'),
    ).toBe(1);

    // The session's own address gets the replay.
    const own = await openStream(endpoint, id, { 'last-event-id': '0' });
    const replayed = await own.events?.next();
    expect(JSON.parse(replayed?.value?.data ?? '{}').method).toBe('sampling/createMessage');
    own.close();
  });

  it('holds one client to its session quota (429) while another client still gets in', async () => {
    harness = await startHarness({}, { sessions: { maxSessionsPerClient: 2 } });
    const { endpoint } = harness;
    const greedy = { authorization: 'Bearer greedy' };
    const first = await openSession(endpoint, greedy);
    await openSession(endpoint, greedy);
    const refused = await call(endpoint, {
      headers: { ...MCP_HEADERS, ...greedy },
      body: INITIALIZE,
    });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(JSON.parse(refused.text)).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      error: { message: 'Too Many Requests: 2 sessions per client' },
    });
    // Another token, and anonymous clients by address, each have their own quota.
    await openSession(endpoint, { authorization: 'Bearer modest' });
    await openSession(endpoint);
    await openSession(endpoint);
    const anonymous = await call(endpoint, { headers: MCP_HEADERS, body: INITIALIZE });
    expect(anonymous.status).toBe(429);
    await openSession(endpoint, {}, fromOther);
    expect(
      await metricValue(harness.proxy.url, 'mcp_proxy_session_rejections_total', 'client_quota'),
    ).toBe(2);
    // A session ended frees its slot.
    const ended = await call(endpoint, {
      method: 'DELETE',
      headers: { ...greedy, 'mcp-session-id': first },
    });
    expect(ended.status).toBe(200);
    await openSession(endpoint, greedy);
  });

  it('at its quota, ends the session a client left (GET stream closed, unused since) to make room', async () => {
    harness = await startHarness({}, { sessions: { maxSessionsPerClient: 2 } });
    const { endpoint } = harness;
    const token = { authorization: 'Bearer leaves' };
    const left = await openSession(endpoint, token);
    const kept = await openSession(endpoint, token);
    // As an SDK client closes without DELETE: its GET stream ends, nothing more is sent.
    const stream = await openStream(endpoint, left, token);
    expect(stream.status).toBe(200);
    stream.close();
    const { sessions } = harness.proxy.context;
    await expect
      .poll(() => sessions.peek(left, 'example')?.streamClosedAt, {
        message: 'the proxy did not see the stream close',
      })
      .toBeDefined();
    const third = await call(endpoint, { headers: { ...MCP_HEADERS, ...token }, body: INITIALIZE });
    expect(third.status).toBe(200);
    expect(
      await metricValue(
        harness.proxy.url,
        'mcp_proxy_sessions_reclaimed_total',
        'upstream="example"',
      ),
    ).toBe(1);
    const onLeft = await call(endpoint, {
      headers: { ...MCP_HEADERS, ...token, 'mcp-session-id': left },
      body: LIST,
    });
    expect(onLeft.status).toBe(404);
    const onKept = await call(endpoint, {
      headers: { ...MCP_HEADERS, ...token, 'mcp-session-id': kept },
      body: LIST,
    });
    expect(onKept.status).toBe(200);
    // The other two are in use or never left: the next one is refused.
    const fourth = await call(endpoint, {
      headers: { ...MCP_HEADERS, ...token },
      body: INITIALIZE,
    });
    expect(fourth.status).toBe(429);
  });

  it('ends a session whose GET stream stays open once the stream limit has passed', async () => {
    harness = await startHarness(
      {},
      { limits: { sessionIdleTimeoutMs: 1_000 }, sessions: { streamIdleTimeoutMs: 1_500 } },
    );
    const init = await call(harness.endpoint, { headers: MCP_HEADERS, body: INITIALIZE });
    const id = init.headers['mcp-session-id'] as string;
    const stream = await openStream(harness.endpoint, id);
    expect(stream.status).toBe(200);
    expect((await stream.events?.next())?.value?.data).toBe(''); // priming
    // The proxy ends the stream when it ends the session (no request arrives meanwhile).
    expect((await stream.events?.next())?.done).toBe(true);
    const after = await call(harness.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: LIST,
    });
    expect(after.status).toBe(404);
  });
});

/** Resolves once `condition` holds, checking after each turn of the event loop (bounded). */
async function waitUntil(condition: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}
