/**
 * Sealed sessions across replicas, in one process: three proxies sharing sealing keys in front
 * of one official SDK server, and clients whose requests go to the replicas in turn (the nginx
 * cluster test in tests/cluster does the same through a real load balancer, with kill -9).
 */
import { randomBytes } from 'node:crypto';
import { parseSseStream } from '@mcp/sse';
import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseProxyConfig } from './config.ts';
import { createProxyLogger } from './logger.ts';
import { createPoolConnector } from './pool-connector.ts';
import { type ProxyServer, startProxy } from './proxy.ts';
import {
  connectClient,
  INITIALIZE,
  MCP_HEADERS,
  raw,
  rawSession,
  textOf,
  within,
} from './test-support.ts';

const k1 = { id: 'k1', secret: randomBytes(32).toString('base64') };
const k2 = { id: 'k2', secret: randomBytes(32).toString('base64') };
type Key = typeof k1;

let upstream: SdkServer | undefined;
const replicas: ProxyServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await Promise.allSettled(replicas.splice(0).map((r) => r.close()));
  await upstream?.close();
  upstream = undefined;
});

async function startReplica(
  server: SdkServer,
  keys: Key[],
  sessions: { reinitialize?: boolean; tokenMaxAgeMs?: number } = {},
): Promise<ProxyServer> {
  const config = parseProxyConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstreams: [{ name: 'example', url: server.url, h2c: true }],
    sessions: { sealingKeys: keys, ...sessions },
    // The upstream GET stream closes with the client's: another replica may take it at once.
    limits: { serverStreamLingerMs: 0 },
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const proxy = await startProxy({
    config,
    logger: createProxyLogger(config),
    connector: createPoolConnector(config),
  });
  replicas.push(proxy);
  return proxy;
}

async function startCluster(
  mode: 'sse' | 'events' = 'sse',
  sessions: { reinitialize?: boolean; tokenMaxAgeMs?: number } = {},
): Promise<string[]> {
  upstream = await startSdkServer({ http: 'h2c', mode });
  const started = await Promise.all(
    [1, 2, 3].map(() => startReplica(upstream as SdkServer, [k1], sessions)),
  );
  return started.map((r) => `${r.url}/example/mcp`);
}

interface Sent {
  replica: number;
  method: string;
  /** The JSON-RPC method, or 'response' for the client's answers. */
  rpc: string;
}

/** An SDK client whose every HTTP request goes to the next replica (round robin, no stickiness). */
async function roundRobinClient(endpoints: string[], sent: Sent[] = []): Promise<Client> {
  let next = 0;
  const fetchRoundRobin = (input: string | URL | Request, init?: RequestInit) => {
    const replica = next++ % endpoints.length;
    const body =
      typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string }) : {};
    sent.push({ replica, method: init?.method ?? 'GET', rpc: body.method ?? 'response' });
    void input;
    return fetch(endpoints[replica] as string, init);
  };
  const client = await connectClient(endpoints[0] as string, fetchRoundRobin);
  clients.push(client);
  return client;
}

const call = (id: number, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

async function openGet(endpoint: string, headers: Record<string, string>) {
  const res = await request(endpoint, {
    method: 'GET',
    headers: { accept: 'text/event-stream', ...headers },
  });
  expect(res.statusCode).toBe(200);
  const events = parseSseStream(res.body)[Symbol.asyncIterator]();
  return { res, events };
}

describe('sealed sessions across replicas (sessions.sealingKeys)', () => {
  it('serves every request of an SDK client on whichever replica it lands, sampling answers included', async () => {
    const endpoints = await startCluster();
    const sent: Sent[] = [];
    const client = await roundRobinClient(endpoints, sent);
    for (let i = 0; i < 6; i++) {
      const result = await client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } });
      expect(textOf(result)).toBe(`hi ${i}`);
    }
    const sampled = await client.callTool({ name: 'sample', arguments: { prompt: 'ping' } });
    expect(textOf(sampled)).toBe('sampled: pong: ping');
    // The sampling answer went to another replica than the call it belongs to.
    const sampleCall = sent.find((s) => s.rpc === 'tools/call' && s === sent.at(-2));
    const answer = sent.at(-1);
    expect(answer?.rpc).toBe('response');
    expect(answer?.replica).not.toBe(sampleCall?.replica);
    expect(new Set(sent.map((s) => s.replica))).toEqual(new Set([0, 1, 2]));
    // One upstream session, adopted by every replica, never re-initialized.
    expect(upstream?.sessionCount).toBe(1);
    expect(
      upstream?.seen.filter((s) => s.method === 'POST' && s.sessionId === undefined),
    ).toHaveLength(1);
  });

  it('resumes a GET stream on another replica from the event id the first one gave', async () => {
    const endpoints = await startCluster('events');
    const [a, b, c] = endpoints as [string, string, string];
    const id = await rawSession(a);
    const session = { 'mcp-session-id': id };
    const first = await openGet(b, session);
    expect((await first.events.next()).value?.data).toBe(''); // priming
    await upstream?.waitForGetStreams(1);
    await upstream?.broadcast('notifications/message', { level: 'info', data: 'one' });
    const one = await within(5_000, first.events.next(), 'no event on the first GET stream');
    expect(JSON.parse(one.value?.data ?? '{}')).toMatchObject({ params: { data: 'one' } });
    const lastEventId = one.value?.id ?? '';
    first.res.body.destroy();
    await upstream?.waitForGetStreams(0);
    // Sent while no stream is open: the upstream keeps it in its event store.
    await upstream?.broadcast('notifications/message', { level: 'info', data: 'two' });
    const second = await openGet(c, { ...session, 'last-event-id': lastEventId });
    const priming = await second.events.next();
    expect(priming.value?.data).toBe('');
    const two = await within(5_000, second.events.next(), 'nothing replayed on the other replica');
    expect(JSON.parse(two.value?.data ?? '{}')).toMatchObject({ params: { data: 'two' } });
    second.res.body.destroy();
    expect(upstream?.seen.some((s) => s.method === 'GET' && s.lastEventId !== undefined)).toBe(
      true,
    );
  });

  it('ends the session from any replica; then every replica answers 404, as the upstream decides (by default)', async () => {
    const [a, b, c] = (await startCluster('sse')) as [string, string, string];
    const id = await rawSession(a);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': id };
    expect((await raw(b, { headers, body: call(2, 'echo', { text: 'x' }) })).status).toBe(200);
    expect((await raw(c, { method: 'DELETE', headers })).status).toBe(200);
    expect(upstream?.deleted).toHaveLength(1);
    expect((await raw(a, { headers, body: call(3, 'echo', { text: 'x' }) })).status).toBe(404);
    expect((await raw(b, { method: 'DELETE', headers })).status).toBe(404);
  });

  it('answers a GET 404 on every replica once the upstream session is gone, before any stream', async () => {
    const [a, b, c] = (await startCluster()) as [string, string, string];
    const id = await rawSession(a);
    const get = { accept: 'text/event-stream', 'mcp-session-id': id };
    // Replica b follows the session's stream; then c ends it.
    const open = await openGet(b, get);
    expect((await open.events.next()).value?.data).toBe(''); // priming
    expect((await raw(c, { method: 'DELETE', headers: { ...MCP_HEADERS, ...get } })).status).toBe(
      200,
    );
    // b's stream ends with the session (the client would reconnect and be told 404).
    expect((await within(5_000, open.events.next(), 'the GET stream stayed open')).done).toBe(true);
    for (const replica of [a, b, c]) {
      const res = await request(replica, { method: 'GET', headers: get });
      await res.body.dump();
      expect(res.statusCode).toBe(404);
    }
  });

  it('re-initializes a session the upstream forgot, unseen by the SDK client, which takes the new token (sessions.reinitialize: true)', async () => {
    const endpoints = await startCluster('sse', { reinitialize: true });
    const client = await roundRobinClient(endpoints);
    const transport = client.transport as StreamableHTTPClientTransport;
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe(
      'before',
    );
    const before = transport.sessionId;
    await upstream?.forgetSessions(); // as a restarted upstream would
    for (let i = 0; i < 6; i++) {
      const result = await client.callTool({ name: 'echo', arguments: { text: `after ${i}` } });
      expect(textOf(result)).toBe(`after ${i}`);
    }
    expect(transport.sessionId).not.toBe(before);
    // One new upstream session, opened with the client's own initialize, served by every replica.
    expect(upstream?.sessionCount).toBe(1);
    const initializes = upstream?.seen.filter((s) => s.method === 'POST' && !s.sessionId);
    expect(initializes).toHaveLength(2);
  });

  it('serves an old token in the renewed session on the replica that renewed it, until the client ends it (sessions.reinitialize: true)', async () => {
    const [a] = (await startCluster('sse', { reinitialize: true })) as [string, string, string];
    const old = await rawSession(a);
    await upstream?.forgetSessions();
    const post = (token: string, id: number, method = 'POST') =>
      raw(a, {
        method,
        headers: { ...MCP_HEADERS, 'mcp-session-id': token },
        ...(method === 'POST' ? { body: call(id, 'echo', { text: `call ${id}` }) } : {}),
      });
    const renewing = await post(old, 2);
    expect(renewing.status).toBe(200);
    expect(renewing.text).toContain('call 2');
    const renewed = String(renewing.headers['mcp-session-id']);
    expect(renewed).not.toBe(old);
    // A client that keeps its old token (SDK v2 takes the id of initialize only) stays in it.
    for (const id of [3, 4]) {
      const again = await post(old, id);
      expect(again.status).toBe(200);
      expect(again.headers['mcp-session-id']).toBe(renewed);
    }
    expect(upstream?.sessionCount).toBe(1);
    // Ended here: neither token reopens a session on this replica.
    expect((await post(renewed, 0, 'DELETE')).status).toBe(200);
    expect((await post(old, 5)).status).toBe(404);
    expect((await post(renewed, 6)).status).toBe(404);
    expect(upstream?.sessionCount).toBe(0);
  });

  it('refuses a token past sessions.tokenMaxAgeMs (404), and re-seals one past half of it', async () => {
    const [a, b] = (await startCluster('sse', { tokenMaxAgeMs: 60_000 })) as [string, string];
    const first = await rawSession(a);
    const echo = (endpoint: string, token: string, id: number) =>
      raw(endpoint, {
        headers: { ...MCP_HEADERS, 'mcp-session-id': token },
        body: call(id, 'echo', { text: 'x' }),
      });
    expect((await echo(b, first, 2)).headers['mcp-session-id']).toBe(first);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 40_000);
    const resealed = await echo(b, first, 3);
    expect(resealed.status).toBe(200);
    const second = String(resealed.headers['mcp-session-id']);
    expect(second).not.toBe(first);
    vi.setSystemTime(Date.now() + 30_000); // first is 70 s old, second 30 s
    expect((await echo(a, first, 4)).status).toBe(404);
    expect((await echo(b, first, 5)).status).toBe(404);
    expect((await echo(a, second, 6)).status).toBe(200);
    expect(upstream?.sessionCount).toBe(1);
  });

  it('answers forged, tampered, foreign-key and other-credential tokens 404 without a word upstream', async () => {
    const [a, b] = (await startCluster()) as [string, string, string];
    const id = await raw(a, {
      headers: { ...MCP_HEADERS, authorization: 'Bearer alice' },
      body: JSON.stringify(INITIALIZE),
    }).then((r) => String(r.headers['mcp-session-id']));
    expect(id.startsWith('k1.')).toBe(true);
    const foreign = await startReplica(upstream as SdkServer, [
      { id: 'k1', secret: randomBytes(32).toString('base64') },
    ]);
    const foreignId = await rawSession(`${foreign.url}/example/mcp`);
    const seen = upstream?.seen.length;
    const flip = (s: string, i: number) =>
      `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    const bad = [
      'k1.not-a-token',
      'nope',
      flip(id, 10),
      flip(id, id.length - 2),
      `k9${id.slice(2)}`,
      foreignId,
      'x'.repeat(10_000),
    ];
    for (const token of bad) {
      const headers = { ...MCP_HEADERS, authorization: 'Bearer alice', 'mcp-session-id': token };
      expect((await raw(b, { headers, body: call(2, 'echo', { text: 'x' }) })).status).toBe(404);
      expect(
        (await raw(b, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } }))
          .status,
      ).toBe(404);
      expect((await raw(b, { method: 'DELETE', headers })).status).toBe(404);
    }
    const mallory = { ...MCP_HEADERS, authorization: 'Bearer mallory', 'mcp-session-id': id };
    expect((await raw(b, { headers: mallory, body: call(3, 'echo', { text: 'x' }) })).status).toBe(
      404,
    );
    const anonymous = { ...MCP_HEADERS, 'mcp-session-id': id };
    expect(
      (await raw(b, { headers: anonymous, body: call(4, 'echo', { text: 'x' }) })).status,
    ).toBe(404);
    expect(upstream?.seen.length).toBe(seen);
    const alice = { ...MCP_HEADERS, authorization: 'Bearer alice', 'mcp-session-id': id };
    expect((await raw(b, { headers: alice, body: call(5, 'echo', { text: 'ok' }) })).status).toBe(
      200,
    );
  });

  it('outlives a replica that stops, and a replica with rotated keys [k2, k1] serves k1 sessions', async () => {
    const endpoints = await startCluster();
    const client = await roundRobinClient(endpoints);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe(
      'before',
    );
    // Stopping replicas ends no upstream session: only a client's DELETE does.
    await Promise.all(replicas.splice(0).map((r) => r.close()));
    expect(upstream?.deleted).toEqual([]);
    const rotated = await startReplica(upstream as SdkServer, [k2, k1]);
    const rotatedEndpoint = `${rotated.url}/example/mcp`;
    endpoints.splice(0, 3, rotatedEndpoint, rotatedEndpoint, rotatedEndpoint);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe(
      'after',
    );
    expect(upstream?.sessionCount).toBe(1);
    expect((await rawSession(rotatedEndpoint)).startsWith('k2.')).toBe(true);
  });
});
