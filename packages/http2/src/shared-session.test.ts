/** One MCP session used from two connections, as two proxy replicas use it. */
import { startSdkServer } from '@mcp/test-fixtures';
import { describe, expect, it } from 'vitest';
import { call, closeAfterEach, initialized, initializeRequest, textOf } from '../test/helpers.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';
import { serverEventIdOf } from './server-stream.ts';

const own = closeAfterEach();

function open(url: string, options: Record<string, unknown> = {}): Http2Connection {
  return own(createHttp2Connection({ url, serverStream: 'on-demand', ...options }));
}

describe('a session shared between connections', () => {
  it('adoptSession continues it elsewhere; close() without endSessionOnClose leaves it; endSession() ends it', async () => {
    const server = own(await startSdkServer({ mode: 'events' }));
    const first = open(server.url, { endSessionOnClose: false });
    const initialize = initializeRequest();
    await first.request(initialize);
    await first.notify(initialized);
    const sessionId = first.sessionId as string;
    await first.close();
    expect(server.deleted).toEqual([]);

    const second = open(server.url);
    second.adoptSession({ sessionId, protocolVersion: '2025-11-25', initialize });
    expect(second.sessionId).toBe(sessionId);
    expect(textOf(await second.request(call('echo', { text: 'adopted' })))).toBe('adopted');
    expect(server.seen.filter((s) => s.sessionId === undefined)).toHaveLength(1);

    expect(await second.endSession()).toBe(200);
    expect(server.deleted).toEqual([sessionId]);
    const third = open(server.url);
    third.adoptSession({ sessionId, protocolVersion: '2025-11-25', initialize });
    expect(await third.endSession()).toBe(404);
  });

  it('resumes the GET stream another connection followed, from serverEventIdOf', async () => {
    const server = own(await startSdkServer({ mode: 'events' }));
    const first = open(server.url, { endSessionOnClose: false });
    const initialize = initializeRequest();
    await first.request(initialize);
    await first.notify(initialized);
    first.openServerStream();
    await server.waitForGetStreams(1);
    await server.broadcast('notifications/message', { level: 'info', data: 'one' });
    const one = await first.receive();
    const lastEventId = one === undefined ? undefined : serverEventIdOf(one);
    expect(lastEventId).toBeDefined();
    first.closeServerStream();
    await server.waitForGetStreams(0);
    await server.broadcast('notifications/message', { level: 'info', data: 'two' });

    const second = open(server.url);
    const sessionId = first.sessionId as string;
    second.adoptSession({ sessionId, protocolVersion: '2025-11-25', initialize });
    second.openServerStream(lastEventId);
    expect(await second.receive()).toMatchObject({ params: { data: 'two' } });
    expect(server.seen.at(-1)).toMatchObject({ method: 'GET', lastEventId });
  });
});
