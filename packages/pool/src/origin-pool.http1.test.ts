import diagnosticsChannel from 'node:diagnostics_channel';
import type { Connection, JsonRpcResponse } from '@mcp/connection-core';
import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initialize } from '../test/helpers.ts';
import type { OriginBusyMessage } from './channels.ts';
import { OriginPool } from './origin-pool.ts';

let nextId = 1;

function callTool(
  connection: Connection,
  name: 'echo' | 'slow',
  args: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<JsonRpcResponse> {
  return connection.request(
    {
      jsonrpc: '2.0',
      id: nextId++,
      method: 'tools/call',
      params: { name, arguments: args },
    },
    { signal },
  );
}

function text(response: JsonRpcResponse): string {
  return (response as { result: { content: [{ text: string }] } }).result.content[0].text;
}

async function openSession(
  pool: OriginPool,
  url: string,
  key: string,
  serverStream?: false,
): Promise<Connection> {
  const connection = await pool.connection(url, {
    key,
    ...(serverStream === false ? { serverStream } : {}),
  });
  await initialize(connection);
  await connection.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return connection;
}

/**
 * A session with no GET stream, once its socket is free again (undici frees a socket a moment
 * after the answer on it was read).
 */
async function openQuietSession(pool: OriginPool, url: string): Promise<Connection> {
  const connection = await openSession(pool, url, 'quiet', false);
  await expect.poll(() => pool.stats().origins[0]?.free, { timeout: 5_000 }).toBe(1);
  return connection;
}

/** The next message on `mcp:pool:origin-busy`, or a rejection after `timeoutMs`. */
function nextOriginBusy(timeoutMs = 10_000): Promise<OriginBusyMessage> {
  const channel = diagnosticsChannel.channel('mcp:pool:origin-busy');
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      done();
      resolve(message as OriginBusyMessage);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no mcp:pool:origin-busy message within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      channel.unsubscribe(onMessage);
    };
    channel.subscribe(onMessage);
  });
}

describe('OriginPool in front of the official SDK server on HTTP/1.1', () => {
  let server: SdkServer;

  beforeEach(async () => {
    server = await startSdkServer({ mode: 'sse' });
  });
  afterEach(async () => {
    await server.close();
  });

  it('serve 64 sessions that each hold a GET stream, with their requests beside them, on default settings', async () => {
    await using pool = new OriginPool();
    const sessions = await Promise.all(
      Array.from({ length: 64 }, (_, i) => openSession(pool, server.url, `u${i}`)),
    );
    await server.waitForGetStreams(64);
    // Every session calls at once, twice: the GET streams hold 64 sockets of their own.
    const answers = await Promise.all(
      sessions.flatMap((s, i) => [
        callTool(s, 'echo', { text: `e${i}` }),
        callTool(s, 'slow', { ms: 100 }),
      ]),
    );
    expect(answers.map(text)).toEqual(sessions.flatMap((_, i) => [`e${i}`, 'slept 100 ms']));
    expect(server.openGetStreams).toBe(64);
    const origin = pool.stats().origins[0];
    expect(origin).toMatchObject({ protocol: 'h1', sessions: 64, rejected: 0, waiting: 0 });
    // 64 GET sockets, and sockets for up to 128 requests at once: far from either budget.
    expect(origin?.connected).toBeGreaterThan(64);
  }, 60_000);

  it('fail a GET stream that finds no stream socket in time with OriginBusyError, while requests go on', async () => {
    await using pool = new OriginPool({ maxHttp1StreamSocketsPerOrigin: 2, queueTimeoutMs: 200 });
    const first = await openSession(pool, server.url, 'a');
    const second = await openSession(pool, server.url, 'b');
    await server.waitForGetStreams(2);
    const busy = nextOriginBusy();
    const third = await openSession(pool, server.url, 'c');
    expect(await busy).toMatchObject({
      origin: new URL(server.url).origin,
      reason: 'queue-timeout',
      limitName: 'maxHttp1StreamSocketsPerOrigin',
      limit: 2,
    });
    const answers = await Promise.all(
      [first, second, third].map((s) => callTool(s, 'echo', { text: 'x' })),
    );
    expect(answers.map(text)).toEqual(['x', 'x', 'x']);
    expect(server.openGetStreams).toBe(2);
    expect(pool.stats().origins[0]?.rejected).toBeGreaterThanOrEqual(1);
  });

  it('fail a request at once with OriginBusyError when every socket is busy and the wait queue is full', async () => {
    await using pool = new OriginPool({ maxHttp1SocketsPerOrigin: 1, maxQueuedPerOrigin: 1 });
    const session = await openQuietSession(pool, server.url);
    const running = callTool(session, 'slow', { ms: 300 });
    const waiting = callTool(session, 'echo', { text: 'waited' });
    await expect(callTool(session, 'echo', { text: 'no room' })).rejects.toMatchObject({
      name: 'OriginBusyError',
      code: 'MCP_ORIGIN_BUSY',
      reason: 'queue-full',
      limitName: 'maxHttp1SocketsPerOrigin',
      limit: 1,
    });
    expect(text(await running)).toBe('slept 300 ms');
    expect(text(await waiting)).toBe('waited');
    expect(pool.stats().origins[0]).toMatchObject({ rejected: 1, waiting: 0 });
  });

  it('fail a request that waited queueTimeoutMs for a socket with OriginBusyError', async () => {
    await using pool = new OriginPool({ maxHttp1SocketsPerOrigin: 1, queueTimeoutMs: 100 });
    const session = await openQuietSession(pool, server.url);
    const running = callTool(session, 'slow', { ms: 2_000 });
    const error = await callTool(session, 'echo', { text: 'late' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MCP_ORIGIN_BUSY', reason: 'queue-timeout', limit: 1 });
    expect((error as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(100);
    expect(pool.stats().origins[0]?.waiting).toBe(0);
    expect(text(await running)).toBe('slept 2000 ms');
  });

  it('take an aborted request out of the wait queue at once', async () => {
    await using pool = new OriginPool({ maxHttp1SocketsPerOrigin: 1 });
    const session = await openQuietSession(pool, server.url);
    const running = callTool(session, 'slow', { ms: 1_000 });
    const controller = new AbortController();
    const aborted = callTool(session, 'echo', { text: 'never' }, controller.signal);
    await expect.poll(() => pool.stats().origins[0]?.waiting, { timeout: 5_000 }).toBe(1);
    controller.abort();
    // The aborted POST left the queue; what waits now is the notifications/cancelled the
    // connection sends for it (without the cancel, both would wait).
    expect(pool.stats().origins[0]?.waiting).toBe(1);
    await expect(aborted).rejects.toMatchObject({ code: 'MCP_ABORTED' });
    expect(text(await running)).toBe('slept 1000 ms');
  });
});
