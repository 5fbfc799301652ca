import { rawJsonOf } from '@mcp/connection-core';
import { describe, expect, it } from 'vitest';
import { startH2Server } from '../test/h2-server.ts';
import { closeAfterEach, initialized, initializeRequest, request } from '../test/helpers.ts';
import { createHttp2Connection, type Http2Connection } from './connection.ts';

const own = closeAfterEach();

/** A server whose tools/list answer is these bytes, spaces and all. */
async function open(answer: (id: string | number | undefined) => string): Promise<Http2Connection> {
  const server = own(await startH2Server());
  server.intercept = (_req, res, message) => {
    if (message?.method !== 'tools/list') return false;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer(message.id));
    return true;
  };
  const connection = own(createHttp2Connection({ url: server.url, h2c: true }));
  await connection.request(initializeRequest());
  await connection.notify(initialized);
  return connection;
}

describe('keepRawResponse', () => {
  it('keeps the bytes of a JSON response, as the server sent them, only when asked', async () => {
    const text = (id: unknown) =>
      `{ "jsonrpc": "2.0", "id": ${JSON.stringify(id)}, "result": { "tools": [] } }`;
    const c = await open(text);
    const kept = request('tools/list');
    const response = await c.request(kept, { keepRawResponse: true });
    expect(response).toEqual({ jsonrpc: '2.0', id: kept.id, result: { tools: [] } });
    expect(Buffer.from(rawJsonOf(response) ?? []).toString()).toBe(text(kept.id));
    // Invisible to serialisation.
    expect(JSON.stringify(response)).toBe(
      JSON.stringify({ jsonrpc: '2.0', id: kept.id, result: { tools: [] } }),
    );
    expect(rawJsonOf(await c.request(request('tools/list')))).toBeUndefined();
  });

  it('keeps nothing when the body holds more than the response (a batch)', async () => {
    const c = await open(
      (id) =>
        `[{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}},{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{}}]`,
    );
    const response = await c.request(request('tools/list'), { keepRawResponse: true });
    expect(response.result).toEqual({});
    expect(rawJsonOf(response)).toBeUndefined();
  });
});
