import { isJsonRpcErrorResponse, parseMessage } from '@mcp/connection-core';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from './fault-server.ts';
import {
  type Client,
  callTool,
  nextServerMessage,
  openClient,
  outcome,
  startProxyFor,
  within,
} from './harness.ts';

const MAX_BODY_BYTES = 4096;
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_500);

/** Printable header values: what an HTTP client can actually put on the wire. */
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'text/plain',
    'text/event-stream',
    'multipart/form-data; boundary=x',
    '',
  ),
  headerValue,
);
const accept = fc.oneof(
  fc.constantFrom(
    'application/json, text/event-stream',
    'application/json',
    'text/event-stream',
    '*/*',
    'text/html',
    'application/*;q=0',
    '',
  ),
  headerValue,
);
const nearMessage = fc.record(
  {
    jsonrpc: fc.constantFrom('2.0', '1.0', 2, null),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double(), fc.object()),
    method: fc.oneof(
      fc.constantFrom(
        'initialize',
        'tools/list',
        'tools/call',
        'ping',
        'notifications/initialized',
      ),
      fc.string(),
    ),
    params: fc.oneof(fc.object(), fc.array(fc.jsonValue()), fc.string()),
    result: fc.jsonValue(),
    error: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
  nearMessage.map((m) => JSON.stringify(m)),
  fc.array(nearMessage, { maxLength: 3 }).map((a) => JSON.stringify(a)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.nat({ max: 3 * MAX_BODY_BYTES }).map((n) => `"${'x'.repeat(n)}"`),
);
/** Mostly absent (a well-behaved client), sometimes one of `values`. */
function sometimes<T>(values: T[]) {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.constantFrom(...values), weight: 1 },
  );
}

/** Inputs, given a live session id to aim at: most requests then get past the first checks. */
function inputs(liveSessionId: string) {
  return fc.record({
    method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT', 'OPTIONS'),
    path: fc.constantFrom(
      '/up/mcp',
      '/up/mcp',
      '/up/mcp',
      '/up/mcp?x=1',
      '/nope/mcp',
      '/',
      '/healthz',
    ),
    contentType,
    accept,
    sessionId: fc.oneof(
      { arbitrary: fc.constant(liveSessionId), weight: 4 },
      { arbitrary: fc.constant(undefined), weight: 2 },
      { arbitrary: fc.uuid(), weight: 1 },
      { arbitrary: headerValue, weight: 1 },
    ),
    origin: sometimes(['http://evil.example', 'null', 'http://127.0.0.1']),
    host: sometimes(['evil.example', 'localhost', '127.0.0.1:1']),
    body,
  });
}

describe('fuzzing the proxy edge', () => {
  let upstream: FaultServer;
  let proxy: Awaited<ReturnType<typeof startProxyFor>>;
  let neighbour: Client;
  let target: Client;
  const agent = new Agent({ connections: 8 });

  beforeAll(async () => {
    upstream = await startFaultServer();
    proxy = await startProxyFor(upstream.url, {
      limits: { maxBodyBytes: MAX_BODY_BYTES, maxSessions: 5_000 },
    });
    neighbour = await openClient(proxy.endpoint);
    // The fuzz aims at this session (its id on most requests); the neighbour is left alone.
    target = await openClient(proxy.endpoint);
  });
  afterAll(async () => {
    await neighbour?.close();
    await target?.close().catch(() => {});
    await agent.close();
    await proxy?.proxy.close();
    await upstream?.close();
  });

  it(`answers ${RUNS} generated requests with well-formed responses, and a session beside keeps working`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(inputs(target.connection.sessionId ?? ''), async (i) => {
        const headers: Record<string, string> = {};
        if (i.contentType !== '') headers['content-type'] = i.contentType;
        if (i.accept !== '') headers.accept = i.accept;
        if (i.sessionId !== undefined) headers['mcp-session-id'] = i.sessionId;
        if (i.origin !== undefined) headers.origin = i.origin;
        if (i.host !== undefined) headers.host = i.host;
        const res = await within(
          5_000,
          request(`${proxy.proxy.url}${i.path}`, {
            method: i.method as 'POST',
            headers,
            ...(i.method === 'GET' || i.method === 'OPTIONS' ? {} : { body: i.body }),
            dispatcher: agent,
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          }),
          `${i.method} ${i.path}`,
        );
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode).toBeGreaterThanOrEqual(200);
        expect(res.statusCode).toBeLessThan(600);
        const type = String(res.headers['content-type'] ?? '');
        if (type.startsWith('text/event-stream')) {
          // A GET stream opened by a lucky request: don't wait for it to end.
          res.body.destroy();
          return;
        }
        const text = await within(5_000, res.body.text(), 'body');
        if (res.statusCode >= 400 && i.path.startsWith('/up/mcp') && type.includes('json')) {
          // Errors on the MCP endpoint carry a JSON-RPC error body.
          expect(isJsonRpcErrorResponse(parseMessage(text))).toBe(true);
        }
        if (res.statusCode === 405 || res.statusCode === 429 || res.statusCode === 503) {
          if (res.statusCode !== 405) expect(res.headers['retry-after']).toBeDefined();
        }
      }),
      { numRuns: RUNS },
    );
    // The well-behaved session beside all this still gets its own answers.
    const checks = await within(
      10_000,
      Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          outcome(callTool(neighbour.connection, 'echo', { text: `n${n}` })),
        ),
      ),
      'neighbour',
    );
    expect(checks).toEqual(
      Array.from({ length: 20 }, (_, n) => ({ kind: 'result', text: `n${n}` })),
    );
    // Its GET stream, open all along, still relays what the upstream sends on it.
    const received = nextServerMessage(neighbour, 'a notification on the neighbour GET stream');
    expect(await outcome(callTool(neighbour.connection, 'notify', { text: 'n' }))).toEqual({
      kind: 'result',
      text: 'sent',
    });
    expect(await received).toMatchObject({ params: { data: 'n' } });
    console.log(
      `edge fuzz: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
    // More than one kind of answer was exercised (a fuzz that only ever hits 403 proves little).
    expect(statuses.size).toBeGreaterThan(4);
  });
});
