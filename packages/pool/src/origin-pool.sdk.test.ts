import type { Connection } from '@mcp/connection-core';
import { startSdkServer } from '@mcp/test-fixtures';
import { describe, expect, it } from 'vitest';
import { initialize } from '../test/helpers.ts';
import { OriginPool } from './origin-pool.ts';

let nextId = 1;

function callEcho(connection: Connection, text: string) {
  return connection.request({
    jsonrpc: '2.0',
    id: nextId++,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text } },
  });
}

describe.each([
  { json: true, mode: 'JSON responses' },
  { json: false, mode: 'SSE responses' },
])('OriginPool with the official SDK server over h2c ($mode)', ({ json }) => {
  it('runs many sessions and tool calls over one TCP connection, and ends the sessions', async () => {
    const server = await startSdkServer({ mode: json ? 'json' : 'sse', http: 'h2c' });
    try {
      const pool = new OriginPool({ h2c: true, maxConnectionsPerOrigin: 1 });
      const sessions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => pool.connection(server.url, { key: `u${i}` })),
      );
      await Promise.all(
        sessions.map(async (s) => {
          await initialize(s);
          await s.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
        }),
      );
      expect(server.sessionCount).toBe(20);
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) => callEcho(sessions[i % 20] as Connection, `m${i}`)),
      );
      expect(
        results.map(
          (r) => (r as { result: { content: [{ text: string }] } }).result.content[0].text,
        ),
      ).toEqual(Array.from({ length: 400 }, (_, i) => `m${i}`));
      expect(server.tcpConnections()).toBe(1);
      await pool.close();
      expect(server.sessionCount).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);
});
