import { InvalidMessageError } from '@mcp/connection-core';
import { describe, expect, it } from 'vitest';
import { parseSseStream, type SseEvent } from './decode.ts';
import { type SseMessageItem, SseMessageReader } from './message-reader.ts';

async function* from(events: SseEvent[]): AsyncGenerator<SseEvent> {
  yield* events;
}

async function readAll(reader: SseMessageReader): Promise<SseMessageItem[]> {
  const items: SseMessageItem[] = [];
  for await (const item of reader) items.push(item);
  return items;
}

describe('SseMessageReader', () => {
  it('yields messages with their event ids and tracks priming ids and retry', async () => {
    const reader = new SseMessageReader(
      from([
        { id: 'p0', data: '', retry: 3000 },
        { id: 'e1', data: '{"jsonrpc":"2.0","method":"notifications/progress"}' },
        { event: 'message', data: '{"jsonrpc":"2.0","id":1,"result":{}}' },
        { event: 'endpoint', id: 'e2', data: '/messages' },
      ]),
    );
    expect(reader.lastEventId).toBeUndefined();
    const items = await readAll(reader);
    expect(items).toEqual([
      {
        kind: 'message',
        eventId: 'e1',
        message: { jsonrpc: '2.0', method: 'notifications/progress' },
      },
      { kind: 'message', message: { jsonrpc: '2.0', id: 1, result: {} } },
    ]);
    expect(reader.lastEventId).toBe('e2');
    expect(reader.retryMs).toBe(3000);
  });

  it('reports a malformed event as an item with its event id and keeps reading', async () => {
    const reader = new SseMessageReader(
      from([
        { id: 'bad', data: '{"jsonrpc":"2.0",' },
        { id: 'worse', data: '{"jsonrpc":"1.0","id":1,"result":{}}' },
        { id: 'ok', data: '{"jsonrpc":"2.0","id":2,"result":{}}' },
      ]),
    );
    const items = await readAll(reader);
    expect(items.map((i) => i.kind)).toEqual(['invalid', 'invalid', 'message']);
    const first = items[0] as { kind: 'invalid'; error: InvalidMessageError };
    expect(first.error).toBeInstanceOf(InvalidMessageError);
    expect(first.error.issue).toBe('not-json');
    expect(first.error.eventId).toBe('bad');
    expect(first.error.cause).toBeInstanceOf(SyntaxError);
    expect(first.error.message).toBe('Invalid JSON-RPC message: not valid JSON');
    const second = items[1] as { kind: 'invalid'; error: InvalidMessageError };
    expect(second.error.issue).toBe('bad-version');
    expect(second.error.eventId).toBe('worse');
    expect(reader.lastEventId).toBe('ok');
  });

  it('splits a batch event into its messages', async () => {
    const reader = new SseMessageReader(
      from([
        {
          id: 'b',
          data: '[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]',
        },
      ]),
    );
    const items = await readAll(reader);
    expect(items).toHaveLength(2);
    expect(items.every((i) => i.kind === 'message' && i.eventId === 'b')).toBe(true);
  });

  it('reads straight from bytes', async () => {
    const body = new Blob([
      'id: 0\ndata:\n\n: keep-alive\n\nid: 1\ndata: {"jsonrpc":"2.0","id":"a",\ndata: "result":{"ok":true}}\n\n',
    ]).stream();
    const reader = new SseMessageReader(parseSseStream(body));
    expect(await readAll(reader)).toEqual([
      {
        kind: 'message',
        eventId: '1',
        message: { jsonrpc: '2.0', id: 'a', result: { ok: true } },
      },
    ]);
  });
});
