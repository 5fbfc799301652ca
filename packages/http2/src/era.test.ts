import {
  decodeHeaderValue,
  EraNegotiationError,
  encodeHeaderValue,
  isJsonRpcRequest,
  type JsonRpcMessage,
  MetaKey,
} from '@mcp/connection-core';
import { type SdkV2ModernServer, startSdkServer, startSdkV2ModernServer } from '@mcp/test-fixtures';
import { describe, expect, it } from 'vitest';
import {
  call,
  closeAfterEach,
  initialized,
  initializeRequest,
  request,
  textOf,
} from '../test/helpers.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';

const own = closeAfterEach();
let modern: SdkV2ModernServer | undefined;

async function modernConnection(
  era: 'auto' | '2026-07-28',
  legacyServing: 'stateless' | 'reject' = 'reject',
): Promise<Http2Connection> {
  modern = own(await startSdkV2ModernServer({ http: 'h2c', legacy: legacyServing }));
  const connection = own(createHttp2Connection({ url: modern.url, h2c: true, era }));
  const capabilities = { sampling: {}, elicitation: { form: {} } };
  const answer = await connection.request(initializeRequest('2025-11-25', capabilities));
  // The version asked for, so handshake code goes on working; the era says what is spoken.
  expect(answer).toHaveProperty('result.protocolVersion', '2025-11-25');
  expect(connection.protocolVersion).toBe('2026-07-28');
  await connection.notify(initialized);
  return connection;
}

describe("era 'auto' and '2026-07-28' against the SDK v2 server (createMcpHandler)", () => {
  it.each([
    ['auto', 'stateless'],
    ['auto', 'reject'],
    ['2026-07-28', 'reject'],
  ] as const)(
    'era %s, legacy serving %s: discovers, then calls with no session',
    async (era, serving) => {
      const conn = await modernConnection(era, serving);
      expect(conn.era).toBe('2026-07-28');
      expect(conn.sessionId).toBeUndefined();
      expect(conn.discovery?.supportedVersions).toContain('2026-07-28');
      expect(conn.discovery?._meta?.[MetaKey.SERVER_INFO]?.name).toBe('example-upstream');
      expect(textOf(await conn.request(call('echo', { text: 'hi' })))).toBe('hi');
      const tools = await conn.request(request('tools/list'));
      expect(tools).toHaveProperty('result.resultType', 'complete');
      expect(tools).toHaveProperty('result.ttlMs');
      // One probe, no initialize, no notifications/initialized, no GET stream.
      const methods = modern?.seenHeaders.map((h) => h['mcp-method']);
      expect(methods).toEqual(['server/discover', 'tools/call', 'tools/list']);
      expect(modern?.seenHeaders.every((h) => h['mcp-session-id'] === undefined)).toBe(true);
    },
  );

  it('sends _meta on every request and the standard headers, encoding unsafe names', async () => {
    const conn = await modernConnection('2026-07-28');
    const name = ' héllo ';
    const answer = await conn.request(call(name, {}));
    // The server checked Mcp-Name against the body (a mismatch would be HTTP 400, -32020).
    expect(answer).not.toHaveProperty('error.code', -32020);
    const sent = modern?.seenHeaders.at(-1);
    expect(sent?.['mcp-protocol-version']).toBe('2026-07-28');
    expect(sent?.['mcp-method']).toBe('tools/call');
    expect(sent?.['mcp-name']).toBe(encodeHeaderValue(name));
    expect(sent?.['mcp-name']).toMatch(/^=\?base64\?.+\?=$/);
    expect(decodeHeaderValue(String(sent?.['mcp-name']))).toBe(name);
  });

  it('cancels by closing the request stream (no notifications/cancelled)', async () => {
    const conn = await modernConnection('2026-07-28');
    const controller = new AbortController();
    const pending = conn.request(call('slow', { ms: 60_000 }), { signal: controller.signal });
    await modern?.slowRunning.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'MCP_ABORTED' });
    await modern?.slowRunning.waitFor(0);
    expect(modern?.cancelled()).toBe(1);
    expect(modern?.seenHeaders.map((h) => h['mcp-method'])).toEqual([
      'server/discover',
      'tools/call',
    ]);
  });

  it('runs concurrent calls multiplexed on one connection', async () => {
    const conn = await modernConnection('auto');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => conn.request(call('echo', { text: `m${i}` }))),
    );
    expect(answers.map(textOf)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(conn.isMultiplexed).toBe(true);
  });

  it('surfaces an input_required result (MRTR) and completes on the retry', async () => {
    const conn = await modernConnection('2026-07-28');
    const first = await conn.request(call('confirm', { what: 'deploy' }));
    expect(first).toHaveProperty('result.resultType', 'input_required');
    const asked = (first as { result: { inputRequests: Record<string, { method: string }> } })
      .result.inputRequests;
    expect(asked.confirm?.method).toBe('elicitation/create');
    const retry = call('confirm', { what: 'deploy' });
    (retry.params as Record<string, unknown>).inputResponses = {
      confirm: { action: 'accept', content: { confirm: true } },
    };
    expect(textOf(await conn.request(retry))).toBe('confirmed: yes');
  });
});

describe('multi round-trip requests through onMessage / respond', () => {
  it('asks onMessage as a server-to-client request, and retries with the answer', async () => {
    const conn = await modernConnection('2026-07-28');
    const asked: JsonRpcMessage[] = [];
    const onMessage = (message: JsonRpcMessage): void => {
      asked.push(message);
      if (!isJsonRpcRequest(message)) return;
      const answer = { action: 'accept', content: { confirm: false } };
      conn.respond({ jsonrpc: '2.0', id: message.id, result: answer }).catch(() => {});
    };
    const question = call('confirm', { what: 'deploy' });
    const answer = await conn.request(question, { onMessage });
    expect(textOf(answer)).toBe('confirmed: no');
    expect(answer.id).toBe(question.id);
    expect(asked).toMatchObject([{ method: 'elicitation/create', id: `${question.id}/1/confirm` }]);
    const calls = modern?.seenHeaders.filter((h) => h['mcp-name'] === 'confirm');
    expect(calls).toHaveLength(2);
  });

  it('stops waiting for an answer when the caller aborts', async () => {
    const conn = await modernConnection('2026-07-28');
    const controller = new AbortController();
    const pending = conn.request(call('confirm', { what: 'x' }), {
      signal: controller.signal,
      onMessage: () => controller.abort(),
    });
    await expect(pending).rejects.toMatchObject({ code: 'MCP_ABORTED' });
  });
});

describe('subscriptions/listen as an async iterable', () => {
  it('yields the change notifications in order, and close() ends it locally', async () => {
    const conn = await modernConnection('2026-07-28');
    const subscription = conn.listen({ toolsListChanged: true });
    expect(await subscription.acknowledged).toMatchObject({ toolsListChanged: true });
    modern?.toolsChanged();
    modern?.toolsChanged();
    const seen: string[] = [];
    for await (const notification of subscription) {
      seen.push(notification.method);
      if (seen.length === 2) break; // leaving the loop closes the subscription
    }
    expect(seen).toEqual(['notifications/tools/list_changed', 'notifications/tools/list_changed']);
    expect(await subscription.ended).toBe('local');
  });

  it('is refused on a 2025-11-25 connection', async () => {
    const legacy = own(await startSdkServer({ mode: 'json' }));
    const connection = own(createHttp2Connection({ url: legacy.url, serverStream: false }));
    await connection.request(initializeRequest());
    expect(() => connection.listen({ toolsListChanged: true })).toThrow(/not supported/);
  });
});

describe('era negotiation against a 2025-11-25-only server (SDK v1)', () => {
  it("'auto' falls back to initialize and keeps the session era", async () => {
    const legacy = own(await startSdkServer({ mode: 'json' }));
    const connection = own(
      createHttp2Connection({ url: legacy.url, era: 'auto', serverStream: false }),
    );
    const answer = await connection.request(initializeRequest());
    expect(answer).toHaveProperty('result.protocolVersion', '2025-11-25');
    await connection.notify(initialized);
    expect(connection.era).toBe('2025-11-25');
    expect(connection.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(connection.discovery).toBeUndefined();
    expect(textOf(await connection.request(call('echo', { text: 'old' })))).toBe('old');
  });

  it("'2026-07-28' fails with EraNegotiationError", async () => {
    const legacy = own(await startSdkServer({ mode: 'json' }));
    const connection = own(createHttp2Connection({ url: legacy.url, era: '2026-07-28' }));
    const failed = connection.request(initializeRequest());
    await expect(failed).rejects.toBeInstanceOf(EraNegotiationError);
    await expect(failed).rejects.toMatchObject({ code: 'MCP_ERA_NEGOTIATION' });
  });

  it("'2025-11-25' (the default) sends initialize as it is, with no probe", async () => {
    const legacy = own(await startSdkServer({ mode: 'json' }));
    const connection = own(createHttp2Connection({ url: legacy.url, serverStream: false }));
    await connection.request(initializeRequest());
    expect(legacy.seen.map((s) => s.method)).toEqual(['POST']);
    expect(connection.era).toBe('2025-11-25');
  });
});
