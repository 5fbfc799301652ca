// Both MCP eras through the proxy: every client/upstream pair, with the official SDKs as peers
// (SDK v2 client and server for 2026-07-28, SDK v1 and v2 for 2025-11-25).

import { createHttp2Connection } from '@mcp/http2';
import {
  type SdkServer,
  type SdkV2ModernServer,
  startSdkServer,
  startSdkV2ModernServer,
} from '@mcp/test-fixtures';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { EraPeers, type ModernClientOptions, type UpstreamEra } from './era/era-peers.ts';
import { connectClient, INITIALIZE, MCP_HEADERS, raw, textOf } from './test-support.ts';

const peers = new EraPeers();
let modernUpstream: SdkV2ModernServer | undefined;
let legacyUpstream: SdkServer | undefined;

afterEach(async () => {
  await peers.close();
  await modernUpstream?.close();
  await legacyUpstream?.close();
  modernUpstream = legacyUpstream = undefined;
});

const startBehind = (url: string, era: UpstreamEra, bridgeSessions?: 'per-request') =>
  peers.startBehind(url, era, bridgeSessions === undefined ? {} : { bridgeSessions });

const modernClient = (
  endpoint: string,
  token = 'alice',
  capabilities?: ModernClientOptions['capabilities'],
) => peers.modernClient(endpoint, capabilities === undefined ? { token } : { token, capabilities });

describe('2026-07-28 client, 2026-07-28 upstream (stateless relay)', () => {
  it.each(['2026-07-28', 'both'] as const)('upstream era %s: discovers and calls', async (era) => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const client = await modernClient(await startBehind(modernUpstream.url, era));
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getServerVersion()?.name).toBe('example-upstream');
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(textOf(echoed)).toBe('hi');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('confirm');
    // No session anywhere: none downstream, none kept by the proxy.
    expect(peers.proxy?.context.sessions.size).toBe(0);
  });

  it('carries a multi round-trip request (MRTR): input_required, then the retry', async () => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const client = await modernClient(await startBehind(modernUpstream.url, '2026-07-28'));
    const result = await client.callTool({ name: 'confirm', arguments: { what: 'deploy' } });
    expect(textOf(result)).toBe('confirmed: yes');
    const calls = modernUpstream.seenHeaders.filter((h) => h['mcp-name'] === 'confirm');
    expect(calls).toHaveLength(2);
  });

  it('streams subscriptions/listen notifications', async () => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const client = await modernClient(await startBehind(modernUpstream.url, '2026-07-28'));
    const changed = new Promise<string>((resolve) => {
      client.setNotificationHandler('notifications/tools/list_changed', (n) => resolve(n.method));
    });
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter.toolsListChanged).toBe(true);
    modernUpstream.toolsChanged();
    expect(await changed).toBe('notifications/tools/list_changed');
    await subscription.close();
    expect(await subscription.closed).toBe('local');
  });

  it('our client (h2c): a closed request stream cancels the upstream call', async () => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const endpoint = await startBehind(modernUpstream.url, 'both');
    const connection = createHttp2Connection({ url: endpoint, h2c: true, era: 'auto' });
    peers.track(connection);
    await connection.request({ ...INITIALIZE, jsonrpc: '2.0' });
    expect(connection.era).toBe('2026-07-28');
    const controller = new AbortController();
    const slow = connection.request(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 60_000 } },
      },
      { signal: controller.signal },
    );
    await modernUpstream.slowRunning.waitFor(1);
    controller.abort();
    await expect(slow).rejects.toMatchObject({ code: 'MCP_ABORTED' });
    await modernUpstream.slowRunning.waitFor(0);
    expect(modernUpstream.cancelled()).toBe(1);
  });

  it('answers 400 when the headers do not match the body, and relays nothing', async () => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const endpoint = await startBehind(modernUpstream.url, '2026-07-28');
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' }, _meta: meta },
    });
    const headers = {
      ...MCP_HEADERS,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
    };
    const wrongName = await raw(endpoint, { headers: { ...headers, 'mcp-name': 'other' }, body });
    expect(wrongName.status).toBe(400);
    expect(JSON.parse(wrongName.text)).toMatchObject({ id: 7, error: { code: -32020 } });
    const wrongMethod = await raw(endpoint, {
      headers: { ...headers, 'mcp-method': 'tools/list', 'mcp-name': 'echo' },
      body,
    });
    expect(wrongMethod.status).toBe(400);
    const good = await raw(endpoint, { headers: { ...headers, 'mcp-name': 'echo' }, body });
    expect(good.status).toBe(200);
    expect(modernUpstream.seenHeaders.map((h) => h['mcp-method'])).toEqual(['tools/call']);
  });
});

describe('2026-07-28 client, 2025-11-25-only upstream (bridge onto legacy sessions)', () => {
  it('serves discovery, calls and lists from one session per client and capabilities', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'json' });
    const endpoint = await startBehind(legacyUpstream.url, '2025-11-25');
    const alice = await modernClient(endpoint, 'alice');
    expect(alice.getProtocolEra()).toBe('modern');
    expect(alice.getServerVersion()?.name).toBe('example-upstream');
    expect(textOf(await alice.callTool({ name: 'echo', arguments: { text: 'a' } }))).toBe('a');
    const { tools } = await alice.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    const aliceAgain = await modernClient(endpoint, 'alice');
    expect(textOf(await aliceAgain.callTool({ name: 'echo', arguments: { text: 'b' } }))).toBe('b');
    expect(legacyUpstream.sessionCount).toBe(1);
    // Another client's requests never reach alice's session (its state stays hers).
    const bob = await modernClient(endpoint, 'bob');
    expect(textOf(await bob.callTool({ name: 'echo', arguments: { text: 'c' } }))).toBe('c');
    expect(legacyUpstream.sessionCount).toBe(2);
    // The same client declaring other capabilities gets a session of its own too.
    const aliceBare = await modernClient(endpoint, 'alice', {});
    expect(textOf(await aliceBare.callTool({ name: 'echo', arguments: { text: 'd' } }))).toBe('d');
    expect(legacyUpstream.sessionCount).toBe(3);
  });

  it("'per-request' (stateless mode) ends each upstream session once answered", async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'json' });
    const endpoint = await startBehind(legacyUpstream.url, '2025-11-25', 'per-request');
    const client = await modernClient(endpoint);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 's' } }))).toBe('s');
    await legacyUpstream.waitForSessions(0);
    expect(peers.proxy?.context.sessions.size).toBe(0);
  });
});

describe('2025-11-25 client, 2026-07-28-only upstream (initialize becomes discovery)', () => {
  it('mints the session downstream and calls through the stateless upstream', async () => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const endpoint = await startBehind(modernUpstream.url, '2026-07-28');
    const client = await connectClient(endpoint);
    peers.track(client);
    expect(client.getServerVersion()?.name).toBe('example-upstream');
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'old' } });
    expect(textOf(echoed)).toBe('old');
    expect(peers.proxy?.context.sessions.size).toBe(1);
    const upstreamMethods = modernUpstream.seenHeaders.map((h) => h['mcp-method']);
    expect(upstreamMethods).toEqual(['server/discover', 'tools/call']);
    expect(modernUpstream.seenHeaders.every((h) => h['mcp-session-id'] === undefined)).toBe(true);
  });

  it('turns a multi round-trip request into an elicitation request to the client', async () => {
    modernUpstream = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
    const endpoint = await startBehind(modernUpstream.url, '2026-07-28');
    const client = new LegacyClient(
      { name: 'legacy-test', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { confirm: true },
    }));
    await client.connect(new LegacyTransport(new URL(endpoint)));
    peers.track(client);
    const result = await client.callTool({ name: 'confirm', arguments: { what: 'it' } });
    expect(textOf(result)).toBe('confirmed: yes');
  });
});
