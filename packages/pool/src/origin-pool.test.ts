import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Connection,
  ConnectionClosedError,
  SessionLimitError,
  TransportError,
} from '@mcp/connection-core';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { countingFactory, echo, hold, initialize } from '../test/helpers.ts';
import { McpHttp2Server } from '../test/mcp-http2-server.ts';
import { OriginPool } from './origin-pool.ts';

describe('OriginPool sessions', () => {
  let server: McpHttp2Server;
  let other: McpHttp2Server;

  beforeEach(async () => {
    server = await new McpHttp2Server().listen();
    other = await new McpHttp2Server().listen();
  });
  afterEach(async () => {
    await server.close();
    await other.close();
  });

  it('give the same connection for the same URL and key, another for another key', async () => {
    const factory = countingFactory();
    await using pool = new OriginPool({ factory, h2c: true });
    const a = await pool.connection(server.url, { key: 'alice' });
    expect(await pool.connection(server.url, { key: 'alice' })).toBe(a);
    const b = await pool.connection(server.url, { key: 'bob' });
    expect(b).not.toBe(a);
    const shared = await pool.connection(server.url);
    expect(shared).not.toBe(a);
    expect(await pool.connection(server.url)).toBe(shared);
    expect(await pool.connection(`${server.url}?x=1`)).not.toBe(shared);
    expect(factory.made).toHaveLength(4);
    expect(pool.stats().origins[0]?.sessions).toBe(4);
  });

  it('make exactly one connection for concurrent first calls', async () => {
    const factory = countingFactory();
    await using pool = new OriginPool({ factory, h2c: true });
    const all = await Promise.all(
      Array.from({ length: 20 }, () => pool.connection(server.url, { key: 'k' })),
    );
    expect(new Set(all).size).toBe(1);
    expect(factory.made).toHaveLength(1);
  });

  it('share one dispatcher per origin, and tell two ports on one host apart', async () => {
    const factory = countingFactory();
    await using pool = new OriginPool({ factory, h2c: true });
    expect(pool.dispatcher(`${server.url}/a`)).toBe(
      pool.dispatcher(`http://127.0.0.1:${server.port}/b`),
    );
    expect(pool.dispatcher(server.url)).not.toBe(pool.dispatcher(other.url));
    const a = await pool.connection(server.url);
    const b = await pool.connection(other.url);
    await Promise.all([initialize(a), initialize(b)]);
    expect(server.mcpSessions.size).toBe(1);
    expect(other.mcpSessions.size).toBe(1);
    const origins = pool.stats().origins.map((o) => o.origin);
    expect(origins.sort()).toEqual(
      [`http://127.0.0.1:${server.port}`, `http://127.0.0.1:${other.port}`].sort(),
    );
    expect(server.tcpConnections).toBe(1);
    expect(other.tcpConnections).toBe(1);
  });

  it('pass the origin dispatcher and the connection options to the factory', async () => {
    const seen: unknown[] = [];
    const factory = countingFactory();
    await using pool = new OriginPool<{ headers?: Record<string, string> }>({
      h2c: true,
      factory: (url, options) => {
        seen.push({
          url,
          headers: options.headers,
          same: options.dispatcher === pool.dispatcher(url),
        });
        return factory(url, options);
      },
    });
    await pool.connection(server.url, { key: 'k', headers: { authorization: 'Bearer t' } });
    expect(seen).toEqual([{ url: server.url, headers: { authorization: 'Bearer t' }, same: true }]);
  });

  it('drop a closed connection and make a new one on the next call', async () => {
    const factory = countingFactory();
    await using pool = new OriginPool({ factory, h2c: true });
    const first = await pool.connection(server.url);
    await initialize(first);
    await first.close();
    const second = await pool.connection(server.url);
    expect(second).not.toBe(first);
    await initialize(second);
    expect((await echo(second, { n: 1 })).result).toEqual({ echo: { n: 1 } });
  });

  it('report a failed making to every waiting caller, then try again', async () => {
    let calls = 0;
    const factory = countingFactory();
    await using pool = new OriginPool({
      h2c: true,
      factory: async (url, options) => {
        calls++;
        if (calls === 1) throw new TransportError('refused');
        return factory(url, options);
      },
    });
    const results = await Promise.allSettled([
      pool.connection(server.url),
      pool.connection(server.url),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(pool.stats().total.sessions).toBe(0);
    await expect(pool.connection(server.url)).resolves.toBe(factory.made[0]);
  });

  it('close the least recently used idle session past maxSessionsPerOrigin', async () => {
    const evicted: unknown[] = [];
    const onEvict = (message: unknown): void => {
      evicted.push(message);
    };
    diagnosticsChannel.subscribe('mcp:pool:session:evict', onEvict);
    onTestFinished(() => {
      diagnosticsChannel.unsubscribe('mcp:pool:session:evict', onEvict);
    });
    const factory = countingFactory();
    await using pool = new OriginPool({ factory, h2c: true, maxSessionsPerOrigin: 2 });
    const a = await pool.connection(server.url, { key: 'a' });
    const b = await pool.connection(server.url, { key: 'b' });
    await Promise.all([initialize(a), initialize(b)]);
    await pool.connection(server.url, { key: 'a' }); // a is now the most recently used
    const c = await pool.connection(server.url, { key: 'c' });
    expect(b.closed).toBe(true);
    expect(a.closed).toBe(false);
    expect(evicted).toEqual([
      { origin: `http://127.0.0.1:${server.port}`, url: server.url, key: 'b' },
    ]);
    await initialize(c);
    expect(pool.stats().origins[0]?.sessions).toBe(2);
    // Its DELETE reached the server.
    await pool.close();
    expect(server.deletes).toBe(3);
  });

  it('refuse a session past the limit when every session is busy', async () => {
    const factory = countingFactory();
    await using pool = new OriginPool({ factory, h2c: true, maxSessionsPerOrigin: 1 });
    const a = await pool.connection(server.url, { key: 'a' });
    await initialize(a);
    const held = hold(a);
    await server.waitForHeld(1);
    const refused = pool.connection(server.url, { key: 'b' });
    await expect(refused).rejects.toBeInstanceOf(SessionLimitError);
    await expect(refused).rejects.toMatchObject({ code: 'MCP_SESSION_LIMIT', limit: 1 });
    server.releaseHeld();
    await held;
    const b = await pool.connection(server.url, { key: 'b' });
    expect(a.closed).toBe(true);
    expect(b).not.toBe(a);
  });

  it('close every session and dispatcher on close(), once', async () => {
    const factory = countingFactory();
    const pool = new OriginPool({ factory, h2c: true });
    const sessions: Connection[] = [];
    for (const key of ['a', 'b', 'c']) sessions.push(await pool.connection(server.url, { key }));
    sessions.push(await pool.connection(other.url));
    await Promise.all(sessions.map((s) => initialize(s)));
    expect(server.mcpSessions.size).toBe(3);
    await Promise.all([pool.close(), pool.close()]);
    await pool[Symbol.asyncDispose]();
    expect(sessions.every((s) => s.closed)).toBe(true);
    expect(server.mcpSessions.size).toBe(0);
    expect(other.mcpSessions.size).toBe(0);
    expect(server.deletes).toBe(3);
    await server.waitForOpenSessions(0);
    await other.waitForOpenSessions(0);
    await expect(pool.connection(server.url)).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(() => pool.dispatcher(server.url)).toThrow(ConnectionClosedError);
  });

  it('close a connection still being made when the pool closes', async () => {
    const factory = countingFactory();
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pool = new OriginPool({
      h2c: true,
      factory: async (url, options) => {
        await gate;
        return factory(url, options);
      },
    });
    const making = pool.connection(server.url);
    const closing = pool.close();
    release();
    await expect(making).rejects.toBeInstanceOf(ConnectionClosedError);
    await closing;
    expect(factory.made[0]?.closed).toBe(true);
  });
});
