import diagnosticsChannel from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { countingFactory, initialize } from '../test/helpers.ts';
import { McpHttp2Server } from '../test/mcp-http2-server.ts';
import { OriginPool } from './origin-pool.ts';

function record(name: string): unknown[] {
  const seen: unknown[] = [];
  const listener = (message: unknown): void => {
    seen.push(message);
  };
  diagnosticsChannel.subscribe(name, listener);
  onTestFinished(() => {
    diagnosticsChannel.unsubscribe(name, listener);
  });
  return seen;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('OriginPool diagnostics channels', () => {
  it('publish each new session once', async () => {
    const opened = record('mcp:pool:session:open');
    const server = await new McpHttp2Server().listen();
    try {
      await using pool = new OriginPool({ factory: countingFactory(), h2c: true });
      await Promise.all([
        pool.connection(server.url, { key: 'a' }),
        pool.connection(server.url, { key: 'a' }),
      ]);
      expect(opened).toEqual([
        { origin: `http://127.0.0.1:${server.port}`, url: server.url, key: 'a' },
      ]);
    } finally {
      await server.close();
    }
  });

  it('publish a refused connection, which the request reports as MCP_TRANSPORT', async () => {
    const errors = record('mcp:pool:connection-error');
    const port = await closedPort();
    await using pool = new OriginPool({ h2c: true });
    const connection = await pool.connection(`http://127.0.0.1:${port}/mcp`);
    await expect(initialize(connection)).rejects.toMatchObject({ code: 'MCP_TRANSPORT' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ origin: `http://127.0.0.1:${port}`, connected: 0 });
    expect(pool.stats().origins[0]).toMatchObject({ connected: 0, running: 0, pending: 0 });
  });
});
