// 2026-07-28 clients (SDK v2) of a 2025-11-25-only upstream (SDK v1) through the proxy's bridge:
// the upstream sessions it holds for them, and the upstream's requests to the client turned
// into multi round-trip requests (input_required, then the client's retry), and
// subscriptions/listen following the session's GET stream.

import {
  type ConformanceServer,
  type SdkServer,
  startConformanceServer,
  startSdkServer,
} from '@mcp/test-fixtures';
import { afterEach, describe, expect, it } from 'vitest';
import { MCP_HEADERS, raw, textOf } from '../test-support.ts';
import { EraPeers } from './era-peers.ts';

const peers = new EraPeers();
let legacyUpstream: SdkServer | undefined;
let conformanceUpstream: ConformanceServer | undefined;

afterEach(async () => {
  await peers.close();
  await legacyUpstream?.close();
  await conformanceUpstream?.close();
  legacyUpstream = conformanceUpstream = undefined;
});

describe('bridged upstream sessions', () => {
  it('are ended upstream (DELETE) once idle for sessionIdleTimeoutMs, never while in use', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'json' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25', {
      limits: { sessionIdleTimeoutMs: 200 },
    });
    const client = await peers.modernClient(endpoint);
    // A call that outlasts the idle limit several times over keeps its session (ended under
    // it, the call would fail).
    const slow = await client.callTool({ name: 'slow', arguments: { ms: 800 } });
    expect(textOf(slow)).toBe('slept 800 ms');
    const [sessionId] = legacyUpstream.seen.flatMap((s) => s.sessionId ?? []);
    // Then nothing: the idle limit ends it, with a DELETE.
    await legacyUpstream.waitForSessions(0);
    expect(legacyUpstream.deleted).toEqual([sessionId]);
    expect(peers.proxy?.context.bridged.size).toBe(0);
    // The client's next request opens a new one.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe(
      'again',
    );
    expect(legacyUpstream.sessionCount).toBe(1);
  });

  it('are capped by maxSessions: the least recently used is ended upstream', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'json' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25', {
      limits: { maxSessions: 1 },
    });
    const alice = await peers.modernClient(endpoint, { token: 'alice' });
    await alice.callTool({ name: 'echo', arguments: { text: 'a' } });
    const [aliceSession] = legacyUpstream.seen.flatMap((s) => s.sessionId ?? []);
    const bob = await peers.modernClient(endpoint, { token: 'bob' });
    await bob.callTool({ name: 'echo', arguments: { text: 'b' } });
    await legacyUpstream.waitForSessions(1);
    expect(legacyUpstream.deleted).toEqual([aliceSession]);
    expect(peers.proxy?.context.bridged.size).toBe(1);
  });
});

/** A raw 2026-07-28 tools/call through the proxy, as `token`'s client; its JSON answer. */
async function rawCall(
  endpoint: string,
  token: string,
  id: number,
  params: Record<string, unknown>,
): Promise<{ result?: Record<string, unknown>; error?: { code: number } }> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
  };
  const answer = await raw(endpoint, {
    headers: {
      ...MCP_HEADERS,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': String(params.name),
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { ...params, _meta: meta },
    }),
  });
  expect(answer.status).toBe(200);
  return JSON.parse(answer.text);
}

describe("a legacy upstream's requests to the client during a bridged call (reverse MRTR)", () => {
  it('become input_required rounds the SDK v2 client fulfils, then the final result', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'sse' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25');
    const prompts: string[] = [];
    const client = await peers.modernClient(endpoint, {
      capabilities: { sampling: {} },
      sampled: (prompt) => {
        prompts.push(prompt);
        return `answer to ${prompt}`;
      },
    });
    const once = await client.callTool({ name: 'sample', arguments: { prompt: 'color?' } });
    expect(textOf(once)).toBe('sampled: answer to color?');
    // The upstream asks again within the same call: a second round.
    const twice = await client.callTool({ name: 'sample', arguments: { prompt: 'q', rounds: 2 } });
    expect(textOf(twice)).toBe('sampled: answer to q 1, answer to q 2');
    expect(prompts).toEqual(['color?', 'q 1', 'q 2']);
    expect(legacyUpstream.sessionCount).toBe(1);
    expect(peers.proxy?.context.bridgedCalls.waiting).toBe(0);
  });

  it('carries an elicitation of an SDK v1 server over HTTP/1.1 the same way', async () => {
    conformanceUpstream = await startConformanceServer('sse');
    const endpoint = await peers.startBehind(conformanceUpstream.url, '2025-11-25', { h2c: false });
    const client = await peers.modernClient(endpoint);
    const result = await client.callTool({
      name: 'test_elicitation',
      arguments: { message: 'ok?' },
    });
    expect(textOf(result)).toBe('User response: action=accept, content={"confirm":true}');
  });

  it('continues a call only for the client that started it, once', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'sse' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25');
    const asked = await rawCall(endpoint, 'alice', 1, {
      name: 'sample',
      arguments: { prompt: 'p' },
    });
    const { resultType, inputRequests, requestState } = asked.result as {
      resultType: string;
      inputRequests: Record<string, { method: string }>;
      requestState: string;
    };
    expect(resultType).toBe('input_required');
    const [[key, inputRequest]] = Object.entries(inputRequests) as [[string, { method: string }]];
    expect(inputRequest.method).toBe('sampling/createMessage');
    const answer = { role: 'assistant', model: 'm', content: { type: 'text', text: 'blue' } };
    const retry = {
      name: 'sample',
      arguments: { prompt: 'p' },
      inputResponses: { [key]: answer },
      requestState,
    };
    // Another client (other credentials) holding the requestState gets nothing from it.
    const stolen = await rawCall(endpoint, 'mallory', 2, retry);
    expect(stolen.error?.code).toBe(-32602);
    const done = await rawCall(endpoint, 'alice', 3, retry);
    expect(textOf(done.result)).toBe('sampled: blue');
    expect(done.result?.resultType).toBe('complete');
    // A requestState continues its call once.
    const replayed = await rawCall(endpoint, 'alice', 4, retry);
    expect(replayed.error?.code).toBe(-32602);
  });

  it('waits requestTimeoutMs for the client: then the upstream gets an error, the call is dropped', async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'sse' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25', {
      // Long enough that a loaded box cannot expire the call before the checks just below.
      limits: { requestTimeoutMs: 2_000, sessionIdleTimeoutMs: 250 },
    });
    const asked = await rawCall(endpoint, 'alice', 1, {
      name: 'sample',
      arguments: { prompt: 'p' },
    });
    expect(asked.result?.resultType).toBe('input_required');
    expect(peers.proxy?.context.bridgedCalls.waiting).toBe(1);
    // The session ends (idle) only once the call is over: expired, cancelled upstream.
    await legacyUpstream.waitForSessions(0);
    expect(peers.proxy?.context.bridgedCalls.waiting).toBe(0);
    expect(legacyUpstream.cancelled.map((c) => c.requestId)).toEqual(['bridge-1']);
    const late = await rawCall(endpoint, 'alice', 2, {
      name: 'sample',
      arguments: { prompt: 'p' },
      inputResponses: {},
      requestState: (asked.result as { requestState: string }).requestState,
    });
    expect(late.error?.code).toBe(-32602);
  });
});

describe('calls waiting for input', () => {
  it("are capped: past maxConcurrentRequests the upstream's request is refused, the call goes on", async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'sse' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25', {
      limits: { maxConcurrentRequests: 1 },
    });
    const first = await rawCall(endpoint, 'alice', 1, {
      name: 'sample',
      arguments: { prompt: 'a' },
    });
    expect(first.result?.resultType).toBe('input_required');
    const second = await rawCall(endpoint, 'bob', 2, {
      name: 'sample',
      arguments: { prompt: 'b' },
    });
    // The upstream's tool saw its sampling request fail, and answered with the error.
    expect(second.result?.isError).toBe(true);
    expect(textOf(second.result)).toContain('too many calls wait for input');
    expect(peers.proxy?.context.bridgedCalls.waiting).toBe(1);
  });
});

describe('subscriptions/listen on a bridged session', () => {
  it("relays the GET stream's change notifications; closing it unsubscribes and ends the GET", async () => {
    legacyUpstream = await startSdkServer({ http: 'h2c', mode: 'sse' });
    const endpoint = await peers.startBehind(legacyUpstream.url, '2025-11-25');
    const client = await peers.modernClient(endpoint);
    const updated = new Promise<string>((resolve) => {
      client.setNotificationHandler('notifications/resources/updated', (n) =>
        resolve(n.params.uri),
      );
    });
    const changed = new Promise<string>((resolve) => {
      client.setNotificationHandler('notifications/tools/list_changed', (n) => resolve(n.method));
    });
    const subscription = await client.listen({
      toolsListChanged: true,
      promptsListChanged: true,
      resourceSubscriptions: ['example://counter'],
    });
    // The upstream declares no prompts: what it cannot deliver is not acknowledged.
    expect(subscription.honoredFilter).toEqual({
      toolsListChanged: true,
      resourceSubscriptions: ['example://counter'],
    });
    await legacyUpstream.waitForSubscriptions(1);
    await legacyUpstream.waitForGetStreams(1);
    await client.callTool({ name: 'bump', arguments: {} });
    expect(await updated).toBe('example://counter');
    await legacyUpstream.broadcast('notifications/tools/list_changed', {});
    expect(await changed).toBe('notifications/tools/list_changed');
    expect(legacyUpstream.sessionCount).toBe(1);
    await subscription.close();
    expect(await subscription.closed).toBe('local');
    await legacyUpstream.waitForGetStreams(0);
    await legacyUpstream.waitForSubscriptions(0);
  });
});
