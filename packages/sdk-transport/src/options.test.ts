import { createHttp2Connection } from '@mcp/http2';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstText } from '../test/clients.ts';
import type { TestServer } from '../test/host.ts';
import { startV1Server } from '../test/server-v1.ts';
import { ConnectionTransport } from './index.ts';

describe('ConnectionTransport onUnauthorized', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startV1Server('h2c', { authorization: 'Bearer fresh' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('gets credentials after a 401 and sends the message once more', async () => {
    let token: string | undefined;
    const challenges: Array<string | undefined> = [];
    const connection = createHttp2Connection({
      url: server.url,
      h2c: true,
      headers: (): Record<string, string> =>
        token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const transport = new ConnectionTransport(connection, {
      onUnauthorized: async (error) => {
        challenges.push(error.headers['www-authenticate']);
        token = 'fresh';
      },
    });
    const client = new Client({ name: 'authorized', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe(
        'ok',
      );
      expect(challenges).toEqual(['Bearer realm="mcp", scope="tools"']);
    } finally {
      await client.close();
    }
  });

  it('fails with the 401 (MCP_HTTP_STATUS) when there is no handler', async () => {
    const client = new Client({ name: 'anonymous', version: '1.0.0' });
    const transport = new ConnectionTransport(
      createHttp2Connection({ url: server.url, h2c: true }),
    );
    await expect(client.connect(transport)).rejects.toMatchObject({
      code: 'MCP_HTTP_STATUS',
      status: 401,
    });
    await transport.close();
  });

  it('fails with the second 401 when the new credentials are refused too', async () => {
    let calls = 0;
    const transport = new ConnectionTransport(
      createHttp2Connection({ url: server.url, h2c: true }),
      { onUnauthorized: async () => void calls++ },
    );
    const client = new Client({ name: 'refused', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(1);
    await transport.close();
  });

  it('rejects a bad option with MCP_INVALID_OPTIONS naming it', () => {
    const connection = createHttp2Connection({ url: server.url, h2c: true });
    expect(() => new ConnectionTransport(connection, { onUnauthorized: 'no' as never })).toThrow(
      expect.objectContaining({
        code: 'MCP_INVALID_OPTIONS',
        message: expect.stringContaining('onUnauthorized'),
      }),
    );
  });
});
