import { InvalidOptionsError } from '@mcp/connection-core';
import { describe, expect, it } from 'vitest';
import { countingFactory, initialize } from '../test/helpers.ts';
import { McpHttp2Server } from '../test/mcp-http2-server.ts';
import { usesH2c } from './origin-dispatcher.ts';
import { OriginPool } from './origin-pool.ts';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    return (err as InvalidOptionsError).issues.map((i) => i.path);
  }
  throw new Error('expected InvalidOptionsError');
}

describe('OriginPool options', () => {
  it('name each bad option', () => {
    const factory = countingFactory();
    expect(issuesOf(() => new OriginPool({ factory, maxConnectionsPerOrigin: 0 }))).toEqual([
      'maxConnectionsPerOrigin',
    ]);
    expect(issuesOf(() => new OriginPool({ factory, idleTimeoutMs: 1.5 }))).toEqual([
      'idleTimeoutMs',
    ]);
    expect(
      issuesOf(() => new OriginPool({ factory, h2c: ['https://a.example', 'http://b.example'] })),
    ).toEqual(['h2c']);
    expect(
      issuesOf(() => new OriginPool({ factory, tls: { rejectUnauthorized: 'no' as never } })),
    ).toEqual(['tls.rejectUnauthorized']);
    expect(issuesOf(() => new OriginPool({ factory, maxSessionz: 3 } as never))).toEqual(['']);
    expect(issuesOf(() => new OriginPool({ factory: 'nope' as never }))).toEqual(['factory']);
    expect(
      issuesOf(
        () =>
          new OriginPool({
            factory,
            maxConnectionsPerOrigin: 1,
            maxConcurrentStreams: 100,
            maxSessionsPerOrigin: 100,
          }),
      ),
    ).toEqual(['maxSessionsPerOrigin']);
  });

  it('reject URLs that are not http: or https:', async () => {
    await using pool = new OriginPool({ factory: countingFactory() });
    expect(() => pool.dispatcher('ftp://127.0.0.1/mcp')).toThrow(InvalidOptionsError);
    expect(() => pool.dispatcher('not a url')).toThrow(InvalidOptionsError);
    await expect(pool.connection('ws://127.0.0.1/mcp')).rejects.toThrow(InvalidOptionsError);
    await expect(pool.connection('http://127.0.0.1/mcp', { key: 3 as never })).rejects.toThrow(
      InvalidOptionsError,
    );
  });
});

describe('usesH2c', () => {
  it('select cleartext HTTP/2 by flag, list or predicate, never for https:', () => {
    expect(usesH2c(true, 'http://a:1')).toBe(true);
    expect(usesH2c(true, 'https://a:1')).toBe(false);
    expect(usesH2c(false, 'http://a:1')).toBe(false);
    expect(usesH2c(['http://a:1'], 'http://a:1')).toBe(true);
    expect(usesH2c(['http://a:1'], 'http://a:2')).toBe(false);
    expect(usesH2c((origin) => origin.endsWith(':2'), 'http://a:2')).toBe(true);
  });

  it('normalize listed origins, so one given with a path still matches', async () => {
    const server = await new McpHttp2Server().listen();
    try {
      await using pool = new OriginPool({ h2c: [`http://127.0.0.1:${server.port}/any/path`] });
      const connection = await pool.connection(server.url);
      expect((await initialize(connection)).result).toMatchObject({
        protocolVersion: '2025-11-25',
      });
      expect(server.h2Sessions).toBe(1);
    } finally {
      await server.close();
    }
  });
});
