import { InvalidSseFieldError } from '@mcp/connection-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSseStream, type SseEvent } from './decode.ts';
import { formatSseComment, formatSseEvent } from './encode.ts';

async function decode(text: string): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSseStream(new Blob([text]).stream())) events.push(event);
  return events;
}

describe('formatSseEvent', () => {
  it('writes fields and one data line per line of data', () => {
    expect(formatSseEvent({ id: '7', event: 'message', data: '{"a":1}', retry: 1000 })).toBe(
      'event: message\nid: 7\nretry: 1000\ndata: {"a":1}\n\n',
    );
    expect(formatSseEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(formatSseEvent({ id: 'p', data: '' })).toBe('id: p\ndata: \n\n');
  });

  it('rejects ids and types with line breaks, and bad retry values', () => {
    for (const id of ['a\nb', 'a\rb', 'a\0b']) {
      const err = (() => {
        try {
          formatSseEvent({ id, data: 'x' });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InvalidSseFieldError);
      expect((err as InvalidSseFieldError).field).toBe('id');
      expect((err as InvalidSseFieldError).code).toBe('MCP_INVALID_SSE_FIELD');
    }
    expect(() => formatSseEvent({ event: 'x\n', data: '' })).toThrow(InvalidSseFieldError);
    expect(() => formatSseEvent({ retry: -1, data: '' })).toThrow(InvalidSseFieldError);
    expect(() => formatSseEvent({ retry: 1.5, data: '' })).toThrow(InvalidSseFieldError);
  });

  it('writes comments that readers ignore', async () => {
    expect(formatSseComment('keep-alive')).toBe(': keep-alive\n\n');
    expect(await decode(`${formatSseComment('a\nb')}${formatSseEvent({ data: 'x' })}`)).toEqual([
      { data: 'x' },
    ]);
  });

  it('round-trips any event through parseSseStream (line breaks read back as LF)', async () => {
    const field = fc.string({ unit: 'binary', maxLength: 10 }).filter((s) => !/[\r\n\0]/.test(s));
    const event = fc.record(
      {
        id: field,
        event: field.filter((s) => s.length > 0),
        data: fc.string({ unit: 'binary', maxLength: 40 }),
        retry: fc.nat(),
      },
      { requiredKeys: ['data'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 5 }), async (events) => {
        const decoded = await decode(events.map(formatSseEvent).join(''));
        expect(decoded).toEqual(
          events.map((e) => ({ ...e, data: e.data.replace(/\r\n|\r/g, '\n') })),
        );
      }),
      { numRuns: 200 },
    );
  });
});
