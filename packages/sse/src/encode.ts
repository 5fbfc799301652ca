import { InvalidSseFieldError } from '@mcp/connection-core';
import type { SseEvent } from './decode.ts';

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Serializes one event, ending with the blank line that dispatches it. Data with line breaks
 * (LF, CR or CRLF) becomes several `data:` lines, which a reader joins back with LF. An `id`
 * or `event` holding a line break or NUL, or a `retry` that is not a non-negative integer,
 * throws InvalidSseFieldError: such an event cannot be written without changing its meaning.
 */
export function formatSseEvent(event: SseEvent): string {
  let text = '';
  if (event.event !== undefined) text += `event: ${checkField('event', event.event)}\n`;
  if (event.id !== undefined) text += `id: ${checkField('id', event.id)}\n`;
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new InvalidSseFieldError(
        'retry',
        `expected a non-negative integer, got ${event.retry}`,
      );
    }
    text += `retry: ${event.retry}\n`;
  }
  for (const line of event.data.split(LINE_BREAK)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** A comment line (ignored by readers), e.g. a keep-alive. Line breaks become separate comments. */
export function formatSseComment(comment: string): string {
  let text = '';
  for (const line of comment.split(LINE_BREAK)) text += `:${line === '' ? '' : ` ${line}`}\n`;
  return `${text}\n`;
}

function checkField(field: 'id' | 'event', value: string): string {
  if (/[\r\n]/.test(value)) throw new InvalidSseFieldError(field, 'must not contain a line break');
  if (value.includes('\0')) throw new InvalidSseFieldError(field, 'must not contain NUL');
  return value;
}
