import {
  AbortedError,
  isJsonRpcRequest,
  type JsonRpcMessage,
  SessionExpiredError,
  TimeoutError,
} from '@mcp/connection-core';
import { type SdkServer, type SdkServerMode, startSdkServer } from '@mcp/test-fixtures';
import { describe, expect, it } from 'vitest';
import {
  call,
  closeAfterEach,
  initialized,
  initializeRequest,
  request,
  textOf,
} from '../test/helpers.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';

const own = closeAfterEach();
let server: SdkServer | undefined;

async function connect(
  mode: SdkServerMode,
  extra: Record<string, unknown> = {},
  serverOptions: { retryInterval?: number } = {},
): Promise<Http2Connection> {
  server = own(await startSdkServer({ mode, ...serverOptions }));
  const connection = own(createHttp2Connection({ url: server.url, ...extra }));
  const response = await connection.request(initializeRequest());
  expect(response).toHaveProperty('result.protocolVersion', '2025-11-25');
  await connection.notify(initialized);
  return connection;
}

describe.each(['json', 'sse', 'events'] as const)('against the SDK server (%s mode)', (mode) => {
  it('initializes, records the session, and sends its headers on every request', async () => {
    const conn = await connect(mode, { serverStream: false });
    expect(conn.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(conn.protocolVersion).toBe('2025-11-25');
    const tools = await conn.request(request('tools/list'));
    expect(tools).toHaveProperty('result.tools');
    const echoed = await conn.request(call('echo', { text: 'hi' }));
    expect(textOf(echoed)).toBe('hi');
    const posts = server?.seen.filter((s) => s.method === 'POST') ?? [];
    expect(posts).toHaveLength(4);
    for (const post of posts.slice(1)) {
      expect(post.sessionId).toBe(conn.sessionId);
      expect(post.protocolVersion).toBe('2025-11-25');
    }
    expect(posts[0]?.sessionId).toBeUndefined();
  });

  it('answers a JSON-RPC error as a resolved response', async () => {
    const conn = await connect(mode, { serverStream: false });
    const response = await conn.request(request('no/such/method'));
    expect(response).toHaveProperty('error.code', -32601);
  });

  it('runs many concurrent calls', async () => {
    const conn = await connect(mode, { serverStream: false });
    const texts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => conn.request(call('echo', { text: `n${i}` }))),
    );
    expect(texts.map(textOf)).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    const snap = conn.metrics.snapshot();
    expect(snap.requests.succeeded).toBe(51);
    expect(snap.bytes.sent).toBeGreaterThan(0);
    expect(snap.bytes.received).toBeGreaterThan(0);
  });

  it('sends DELETE on close and rejects later use', async () => {
    const conn = await connect(mode, { serverStream: false });
    const id = conn.sessionId;
    await conn.close();
    await conn.close();
    expect(server?.deleted).toEqual([id]);
    expect(conn.closed).toBe(true);
    await expect(conn.request(request('tools/list'))).rejects.toMatchObject({
      code: 'MCP_CONNECTION_CLOSED',
    });
  });

  it('maps a 404 for a known session to SessionExpiredError', async () => {
    const conn = await connect(mode, { serverStream: false });
    server?.forgetSessions();
    const error = await conn.request(request('tools/list')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(error).toMatchObject({ sessionId: conn.sessionId });
  });

  it('replays initialize after a 404 with reinitialize: true', async () => {
    const conn = await connect(mode, { serverStream: false, reinitialize: true });
    const first = conn.sessionId;
    server?.forgetSessions();
    const response = await conn.request(call('echo', { text: 'again' }));
    expect(textOf(response)).toBe('again');
    expect(conn.sessionId).toBeDefined();
    expect(conn.sessionId).not.toBe(first);
  });

  it('aborting a request rejects it and sends notifications/cancelled', async () => {
    const conn = await connect(mode, { serverStream: false });
    const controller = new AbortController();
    const message = call('slow', { ms: 10_000 });
    const pending = conn.request(message, { signal: controller.signal });
    await expect
      .poll(() => server?.seen.filter((s) => s.method === 'POST').length, {
        message: 'the slow call never reached the server',
      })
      .toBe(3);
    controller.abort(new Error('user changed their mind'));
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await expect
      .poll(() => server?.cancelled.length, { message: 'no notifications/cancelled arrived' })
      .toBe(1);
    expect(server?.cancelled[0]).toMatchObject({ requestId: message.id });
    expect(String(server?.cancelled[0]?.reason)).toContain('user changed their mind');
  });

  it('times out, and the timeout cancels the request', async () => {
    const conn = await connect(mode, { serverStream: false });
    const message = call('slow', { ms: 10_000 });
    await expect(conn.request(message, { timeoutMs: 200 })).rejects.toBeInstanceOf(TimeoutError);
    await expect
      .poll(() => server?.cancelled.length, {
        message: 'the timeout sent no notifications/cancelled',
      })
      .toBe(1);
    expect(server?.cancelled[0]).toMatchObject({ requestId: message.id });
  });
});

describe.each(['sse', 'events'] as const)('SSE responses from the SDK server (%s)', (mode) => {
  it('reads no further message while onMessage has one pending (backpressure)', async () => {
    const conn = await connect(mode, { serverStream: false });
    const order: string[] = [];
    const response = await conn.request(call('progress', { steps: 3 }, { progressToken: 'bp' }), {
      // Each message is taken a turn of the event loop later: what was already received must
      // wait for it, not be handed over in the meantime.
      onMessage: (m) => {
        order.push(`got ${(m as unknown as { params: { progress: number } }).params.progress}`);
        return new Promise<void>((resolve) =>
          setImmediate(() => {
            order.push('taken');
            resolve();
          }),
        );
      },
      timeoutMs: 10_000,
    });
    expect(textOf(response)).toBe('done 3 steps');
    expect(order).toEqual(['got 1', 'taken', 'got 2', 'taken', 'got 3', 'taken']);
  });

  // That progress resets the timeout is checked against a server that paces its progress
  // (h2-streams.test.ts); this server sends its progress at once.
  it('delivers progress to onMessage, in order, before the result', async () => {
    const conn = await connect(mode, { serverStream: false });
    const seen: JsonRpcMessage[] = [];
    const response = await conn.request(call('progress', { steps: 3 }, { progressToken: 'p1' }), {
      onMessage: (m) => seen.push(m),
    });
    expect(textOf(response)).toBe('done 3 steps');
    expect(seen.map((m) => ('method' in m ? m.method : 'response'))).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
    ]);
    expect(
      seen.map((m) => (m as unknown as { params: { progress: number } }).params.progress),
    ).toEqual([1, 2, 3]);
  });

  it('lets onMessage answer a server-to-client request with respond()', async () => {
    const conn = await connect(mode, { serverStream: false });
    const response = await conn.request(call('sample', { prompt: 'color?' }), {
      onMessage: (m) => {
        if (isJsonRpcRequest(m) && m.method === 'sampling/createMessage') {
          void conn.respond({
            jsonrpc: '2.0',
            id: m.id,
            result: { role: 'assistant', model: 'test', content: { type: 'text', text: 'blue' } },
          });
        }
      },
    });
    expect(textOf(response)).toBe('sampled: blue');
  });
});

describe('the GET stream (SDK server, SSE mode)', () => {
  it('delivers server notifications to receive()', async () => {
    const conn = await connect('sse');
    await server?.waitForGetStreams(1);
    await server?.broadcast('notifications/tools/list_changed', {});
    const received = await conn.receive();
    expect(received).toMatchObject({ method: 'notifications/tools/list_changed' });
  });
});

describe.each(['2025-06-18', '2025-03-26'])('an older protocol revision (%s)', (version) => {
  it('records the negotiated version and sends it on every request', async () => {
    server = own(await startSdkServer({ mode: 'sse' }));
    const connection = own(createHttp2Connection({ url: server.url }));
    const init = await connection.request(initializeRequest(version));
    expect(init).toHaveProperty('result.protocolVersion', version);
    expect(connection.protocolVersion).toBe(version);
    await connection.notify(initialized);
    const response = await connection.request(call('echo', { text: version }));
    expect(textOf(response)).toBe(version);
    const posts = server.seen.filter((s) => s.method === 'POST').slice(1);
    expect(posts.map((p) => p.protocolVersion)).toEqual([version, version]);
  });
});

describe('reinitialize with the GET stream open (SDK server, SSE mode)', () => {
  it('replays the session once and reopens the GET stream on the new session', async () => {
    const conn = await connect('sse', { reinitialize: true });
    await expect
      .poll(() => server?.seen.some((s) => s.method === 'GET'), { message: 'no GET stream opened' })
      .toBe(true);
    const first = conn.sessionId;
    server?.forgetSessions();
    const response = await conn.request(call('echo', { text: 'back' }));
    expect(textOf(response)).toBe('back');
    const second = conn.sessionId;
    expect(second).not.toBe(first);
    await expect
      .poll(() => server?.seen.some((s) => s.method === 'GET' && s.sessionId === second), {
        message: 'the GET stream was not reopened on the new session',
      })
      .toBe(true);
    await conn.close();
    expect(server?.deleted).toEqual([second]);
  });
});

describe('respond() across a session replay (SDK server, SSE mode)', () => {
  it('rejects an answer to a request of the expired session with SessionExpiredError, and sends nothing', async () => {
    const conn = await connect('sse', { serverStream: false, reinitialize: true });
    let asked: JsonRpcMessage | undefined;
    // The sampling request arrives; the tool call then fails with the session it belongs to.
    const sampling = conn
      .request(call('sample', { prompt: 'color?' }), { onMessage: (m) => (asked ??= m) })
      .catch((e: unknown) => e);
    await expect
      .poll(() => asked !== undefined, { message: 'the sampling request did not arrive' })
      .toBe(true);
    const expired = conn.sessionId;
    await server?.forgetSessions();
    expect(textOf(await conn.request(call('echo', { text: 'new session' })))).toBe('new session');
    expect(conn.sessionId).not.toBe(expired);
    const postsBefore = server?.seen.filter((s) => s.method === 'POST').length;
    const answer = conn.respond({
      jsonrpc: '2.0',
      id: (asked as { id: number }).id,
      result: { role: 'assistant', model: 'test', content: { type: 'text', text: 'blue' } },
    });
    await expect(answer).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(answer).rejects.toMatchObject({ sessionId: expired });
    expect(server?.seen.filter((s) => s.method === 'POST').length).toBe(postsBefore);
    await sampling;
  });
});

describe('resumption (SDK server with an event store)', () => {
  it('resumes a POST stream the server closed early, with GET + Last-Event-ID', async () => {
    const conn = await connect('events', { serverStream: false }, { retryInterval: 20 });
    const seen: JsonRpcMessage[] = [];
    const response = await conn.request(call('hangup', { text: 'x' }), {
      onMessage: (m) => seen.push(m),
    });
    expect(textOf(response)).toBe('late x');
    const resumed = server?.seen.filter((s) => s.method === 'GET' && s.lastEventId !== undefined);
    expect(resumed?.length).toBeGreaterThanOrEqual(1);
    expect(seen.map((m) => (m as unknown as { params: { data: string } }).params.data)).toEqual([
      'before hangup',
      'after hangup',
    ]);
  });
});

describe("serverStream: 'on-demand' (SDK server on HTTP/1.1)", () => {
  it('holds a GET stream, and its socket, only between openServerStream() and closeServerStream()', async () => {
    const conn = await connect('sse', { serverStream: 'on-demand' });
    const sockets = server?.openConnections() ?? 0;
    expect(server?.openGetStreams).toBe(0);
    expect(conn.serverStreamOpen).toBe(false);

    conn.openServerStream();
    await server?.waitForGetStreams(1);
    await server?.broadcast('notifications/tools/list_changed', {});
    expect(await conn.receive()).toMatchObject({ method: 'notifications/tools/list_changed' });

    conn.closeServerStream();
    expect(conn.serverStreamOpen).toBe(false);
    await server?.waitForGetStreams(0);
    // The stream's socket is gone too: what is left is at most the keep-alive socket of POSTs.
    expect(server?.openConnections()).toBeLessThanOrEqual(sockets);

    conn.openServerStream();
    await server?.waitForGetStreams(1);
  });

  it("says how the server answered: 'open', then 'session-expired' once it forgot the session", async () => {
    const conn = await connect('sse', { serverStream: 'on-demand', reinitialize: 'requests' });
    const first = await conn.openServerStream();
    expect(first.answer).toBe('open');
    await server?.waitForGetStreams(1);
    await server?.forgetSessions();
    // The open stream ends with its session, and is not renewed: the caller decides.
    expect(await first.ended).toBe('session-expired');
    expect((await conn.openServerStream()).answer).toBe('session-expired');
    expect(server?.sessionCount).toBe(0);
    // A request renews the session ('requests'); then the stream opens again.
    expect(textOf(await conn.request(call('echo', { text: 'renewed' })))).toBe('renewed');
    expect((await conn.openServerStream()).answer).toBe('open');
  });

  it('renews the session for a GET answered 404 with reinitialize: true, and answers for the new one', async () => {
    const conn = await connect('sse', { serverStream: 'on-demand', reinitialize: true });
    await server?.forgetSessions();
    const renewed = await conn.openServerStream();
    expect(renewed.answer).toBe('open');
    expect(server?.sessionCount).toBe(1);
    if (server) server.refuseNewSessions = true;
    await server?.forgetSessions();
    expect(await renewed.ended).toBe('session-expired');
    // The renewal failed: the session is lost, and so is every later request in it.
    await expect(conn.openServerStream()).resolves.toMatchObject({ answer: 'session-expired' });
    await expect(conn.request(call('echo', { text: 'x' }))).rejects.toMatchObject({
      code: 'MCP_SESSION_EXPIRED',
    });
  });

  it('opens nothing before openServerStream(), in any case', async () => {
    const conn = await connect('sse', { serverStream: 'on-demand' });
    const echoed = await conn.request(call('echo', { text: 'no stream' }));
    expect(textOf(echoed)).toBe('no stream');
    expect(server?.seen.filter((s) => s.method === 'GET')).toEqual([]);
  });
});
