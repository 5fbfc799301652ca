/**
 * A small Server-Sent Events decoder (WHATWG "event stream interpretation") for response bodies.
 * Stands in until `@mcp/sse` exports `parseSseStream` with the same shape.
 */

export interface SseEvent {
  id?: string;
  event?: string;
  /** May be empty: an event that only moves the last event id or sets `retry` (a priming event). */
  data: string;
  retry?: number;
}

/**
 * Decodes an SSE byte stream into events. Events whose data is empty are yielded too (unlike
 * EventSource) so the caller can record their `id` and `retry`.
 */
export async function* parseSseStream(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let first = true;
  let data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  let retry: number | undefined;
  let touched = false;

  for await (const chunk of body) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    pending = pending.length === 0 ? text : pending + text;
    let start = 0;
    for (;;) {
      let end = -1;
      let next = -1;
      for (let i = start; i < pending.length; i++) {
        const c = pending.charCodeAt(i);
        if (c === 10) {
          end = i;
          next = i + 1;
          break;
        }
        if (c === 13) {
          // A CR at the very end may be the first half of CRLF: wait for more.
          if (i + 1 === pending.length) break;
          end = i;
          next = pending.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
          break;
        }
      }
      if (end < 0) break;
      const line = pending.slice(start, end);
      start = next;
      if (line.length === 0) {
        if (touched) {
          const out: SseEvent = { data: data.length === 1 ? (data[0] as string) : data.join('\n') };
          if (id !== undefined) out.id = id;
          if (event !== undefined) out.event = event;
          if (retry !== undefined) out.retry = retry;
          yield out;
        }
        data = [];
        event = undefined;
        retry = undefined;
        id = undefined;
        touched = false;
        continue;
      }
      if (line.charCodeAt(0) === 58) continue; // ':' comment (keep-alive)
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      switch (field) {
        case 'data':
          data.push(value);
          touched = true;
          break;
        case 'event':
          event = value;
          touched = true;
          break;
        case 'id':
          if (!value.includes('\0')) {
            id = value;
            touched = true;
          }
          break;
        case 'retry':
          if (/^\d+$/.test(value)) {
            retry = Number(value);
            touched = true;
          }
          break;
        default:
          break;
      }
    }
    pending = start === 0 ? pending : pending.slice(start);
  }
}
