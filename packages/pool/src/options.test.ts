import { InvalidOptionsError } from '@mcp/connection-core';
import { describe, expect, it } from 'vitest';
import { tinyFactory } from '../test/helpers.ts';
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
    const factory = tinyFactory();
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
    await using pool = new OriginPool({ factory: tinyFactory() });
    expect(() => pool.dispatcher('ftp://127.0.0.1/mcp')).toThrow(InvalidOptionsError);
    expect(() => pool.dispatcher('not a url')).toThrow(InvalidOptionsError);
    await expect(pool.connection('ws://127.0.0.1/mcp')).rejects.toThrow(InvalidOptionsError);
    await expect(pool.connection('http://127.0.0.1/mcp', { key: 3 as never })).rejects.toThrow(
      InvalidOptionsError,
    );
  });
});
