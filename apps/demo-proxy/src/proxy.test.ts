import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  type Harness,
  MCP_HEADERS,
  raw,
  startHarness,
  textOf,
  within,
} from './test-support.ts';

/** Calls `bump` once; resolves with the URI of the resources/updated notification it causes. */
async function bumpAndNotified(client: Client): Promise<string> {
  const notified = new Promise<string>((resolve) => {
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri));
  });
  await client.callTool({ name: 'bump', arguments: {} });
  return within(5_000, notified, 'no resources/updated notification on the GET stream');
}

describe.each([
  { mode: 'SSE', jsonResponse: false },
  { mode: 'JSON', jsonResponse: true },
])('SDK client -> proxy -> SDK server ($mode responses)', ({ jsonResponse }) => {
  let harness: Harness;
  let client: Client;

  beforeAll(async () => {
    harness = await startHarness({ mode: jsonResponse ? 'json' : 'sse' });
    client = await connectClient(harness.endpoint);
  });
  afterAll(async () => {
    await client?.close();
    await harness?.close();
  });

  it('initializes with a proxy-minted session id', () => {
    const transport = client.transport as StreamableHTTPClientTransport;
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.getServerVersion()?.name).toBe('example-upstream');
    expect(harness.upstream.sessionCount).toBe(1);
  });

  it('lists and calls tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'bump',
      'echo',
      'hangup',
      'progress',
      'sample',
      'slow',
    ]);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
  });

  it('carries resource subscription notifications on the GET stream', async () => {
    // Both GET streams open: the proxy's to the upstream, and the client's to the proxy.
    await harness.upstream.waitForGetStreams(1);
    const id = (client.transport as StreamableHTTPClientTransport).sessionId ?? '';
    const { sessions } = harness.proxy.context;
    await expect
      .poll(() => sessions.peek(id, 'example')?.streaming, {
        message: "the client's GET stream did not reach the proxy",
      })
      .toBe(true);
    await client.subscribeResource({ uri: 'example://counter' });
    expect(await bumpAndNotified(client)).toBe('example://counter');
  });

  // A JSON-mode SDK server drops messages related to a request, so these need SSE mode.
  if (!jsonResponse) {
    it('relays progress notifications in order', async () => {
      const seen: number[] = [];
      const result = await client.callTool(
        { name: 'progress', arguments: { steps: 10 } },
        undefined,
        {
          onprogress: (p) => seen.push(p.progress),
        },
      );
      expect(textOf(result)).toBe('done 10 steps');
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('relays a sampling round trip', async () => {
      const result = await client.callTool({ name: 'sample', arguments: { prompt: 'ping' } });
      expect(textOf(result)).toBe('sampled: pong: ping');
    });
  }

  it('DELETE ends both sides', async () => {
    const other = await connectClient(harness.endpoint);
    const transport = other.transport as StreamableHTTPClientTransport;
    const id = transport.sessionId as string;
    const before = harness.upstream.sessionCount;
    await transport.terminateSession();
    await other.close();
    expect(harness.upstream.sessionCount).toBe(before - 1);
    const after = await raw(harness.endpoint, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': id },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    // The first client is unaffected.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still' } }))).toBe(
      'still',
    );
  });
});
