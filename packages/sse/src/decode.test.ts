import { Readable } from 'node:stream';
import { AbortedError, SseBufferOverflowError, TransportError } from '@mcp/connection-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSseStream, type SseEvent } from './decode.ts';

const utf8 = new TextEncoder();

async function collect(source: Parameters<typeof parseSseStream>[0]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSseStream(source)) events.push(event);
  return events;
}

async function* chunks(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= start || cut >= bytes.length) continue;
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

function eachByte(text: string): AsyncGenerator<Uint8Array> {
  const bytes = utf8.encode(text);
  return chunks(
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
  );
}

describe('parseSseStream', () => {
  it('decodes ids, types, multi-line data and retry, at every byte boundary', async () => {
    const text =
      '\uFEFF: keep-alive\r\nid: 1\r\nevent: message\r\ndata: {"a":"é€😀"}\r\n\r\n' +
      'data: line one\rdata: line two\r\rretry: 2500\nid: 2\ndata:\n\n';
    const expected: SseEvent[] = [
      { id: '1', event: 'message', data: '{"a":"é€😀"}' },
      { data: 'line one\nline two' },
      { id: '2', data: '', retry: 2500 },
    ];
    expect(await collect(eachByte(text))).toEqual(expected);
    expect(await collect(Readable.from([Buffer.from(text)]))).toEqual(expected);
    expect(await collect(new Blob([text]).stream())).toEqual(expected);
  });

  it('yields a priming event (id and no data) with data ""', async () => {
    expect(await collect(eachByte('id: prime-1\n\nid: 7\ndata: x\n\n'))).toEqual([
      { id: 'prime-1', data: '' },
      { id: '7', data: 'x' },
    ]);
  });

  it('hands over a retry-only block at the end of the stream', async () => {
    expect(await collect(eachByte('data: a\n\nretry: 100\n\n'))).toEqual([
      { data: 'a' },
      { data: '', retry: 100 },
    ]);
  });

  it('drops comments and an unterminated last block', async () => {
    expect(await collect(eachByte(':ping\n\n: ping\n\ndata: done\n\ndata: cut'))).toEqual([
      { data: 'done' },
    ]);
  });

  it('wraps a failing source in TransportError, after the events before it', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield utf8.encode('data: one\n\nretry: 10\n');
      throw new Error('socket hang up');
    }
    const seen: SseEvent[] = [];
    const failure = await (async () => {
      for await (const event of parseSseStream(broken())) seen.push(event);
    })().catch((err: unknown) => err);
    expect(seen).toEqual([{ data: 'one' }, { data: '', retry: 10 }]);
    expect(failure).toBeInstanceOf(TransportError);
    expect((failure as TransportError).cause).toBeInstanceOf(Error);
  });

  it('stops on abort with AbortedError and cancels the source', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(utf8.encode('data: first\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const events = parseSseStream(stream, { signal: controller.signal });
    expect((await events.next()).value).toEqual({ data: 'first' });
    const pending = events.next();
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(cancelled).toBe(true);
  });

  it('cancels the source when the consumer breaks out', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(utf8.encode('data: a\n\ndata: b\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of parseSseStream(stream)) {
      expect(event.data).toBe('a');
      break;
    }
    expect(cancelled).toBe(true);
  });

  it('cuts off a runaway event with SseBufferOverflowError', async () => {
    const text = `data: ${'x'.repeat(200)}\n`;
    await expect(
      (async () => {
        for await (const _ of parseSseStream(eachByte(text), { maxBufferSize: 64 })) {
          // nothing
        }
      })(),
    ).rejects.toBeInstanceOf(SseBufferOverflowError);
  });
});

// --- property: any split of a valid stream yields the same events -------------------------

const fieldText = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s));
const nonEmptyFieldText = fieldText.filter((s) => s.length > 0);

interface GeneratedEvent {
  id: string | undefined;
  event: string | undefined;
  dataLines: string[];
  retry: number | undefined;
  comment: string | undefined;
}

const generatedEvent: fc.Arbitrary<GeneratedEvent> = fc
  .record({
    id: fc.option(fieldText, { nil: undefined }),
    event: fc.option(nonEmptyFieldText, { nil: undefined }),
    dataLines: fc.array(fieldText, { maxLength: 3 }),
    retry: fc.option(fc.nat({ max: 100_000 }), { nil: undefined }),
    comment: fc.option(fieldText, { nil: undefined }),
  })
  .filter((e) => e.id !== undefined || e.dataLines.length > 0);

const lineEnd = fc.constantFrom('\n', '\r', '\r\n');

function serialize(events: GeneratedEvent[], ends: string[], bom: boolean): string {
  let i = 0;
  let previous = '';
  // A CR followed by an LF would read as one CRLF: keep the line count by writing CR CRLF.
  const eol = (): string => {
    let end = ends[i++ % ends.length] as string;
    if (previous === '\r' && end === '\n') end = '\r\n';
    previous = end;
    return end;
  };
  let text = bom ? '\uFEFF' : '';
  for (const e of events) {
    if (e.comment !== undefined) text += `:${e.comment}${eol()}`;
    if (e.retry !== undefined) text += `retry: ${e.retry}${eol()}`;
    if (e.event !== undefined) text += `event: ${e.event}${eol()}`;
    for (const line of e.dataLines) text += `data: ${line}${eol()}`;
    if (e.id !== undefined) text += `id: ${e.id}${eol()}`;
    text += eol();
  }
  return text;
}

function expectedEvents(events: GeneratedEvent[]): SseEvent[] {
  return events.map((e) => {
    const out: SseEvent = { data: e.dataLines.join('\n') };
    if (e.id !== undefined) out.id = e.id;
    if (e.event !== undefined && e.dataLines.length > 0) out.event = e.event;
    if (e.retry !== undefined) out.retry = e.retry;
    return out;
  });
}

describe('parseSseStream property', () => {
  it('any split of a valid byte stream yields exactly the same events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(generatedEvent, { maxLength: 8 }),
        fc.array(lineEnd, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 30 }),
        async (events, ends, bom, cuts) => {
          const bytes = utf8.encode(serialize(events, ends, bom));
          const whole = await collect(chunks(bytes, []));
          expect(whole).toEqual(expectedEvents(events));
          const split = await collect(
            chunks(
              bytes,
              cuts.map((c) => c % (bytes.length + 1)),
            ),
          );
          expect(split).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});
