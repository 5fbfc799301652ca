import { type JsonRpcMessage, keepRawJson, parseMessages } from '@mcp/connection-core';

/** Who a JSON answer's messages go to (the request's exchange). */
export interface JsonAnswerReader {
  /** Routes one message; a promise when the caller's onMessage asked to be waited for. */
  handleMessage(message: JsonRpcMessage): Promise<void> | undefined;
}

/**
 * Routes the messages of a JSON answer, parsed once (`keepRaw`: a single message keeps its
 * bytes, to be relayed unchanged). Synchronous unless an onMessage asks to be waited for: then
 * a promise that routes the rest in order after it.
 */
export function routeJsonAnswer(
  bytes: Buffer,
  keepRaw: boolean,
  reader: JsonAnswerReader,
): Promise<void> | undefined {
  const messages = parseMessages(bytes);
  if (messages.length === 1 && keepRaw) keepRawJson(messages[0] as JsonRpcMessage, bytes);
  for (let i = 0; i < messages.length; i++) {
    const pending = reader.handleMessage(messages[i] as JsonRpcMessage);
    if (pending !== undefined) return routeRest(reader, pending, messages, i + 1);
  }
  return undefined;
}

async function routeRest(
  reader: JsonAnswerReader,
  pending: Promise<void>,
  messages: JsonRpcMessage[],
  from: number,
): Promise<void> {
  await pending;
  for (let i = from; i < messages.length; i++) {
    const next = reader.handleMessage(messages[i] as JsonRpcMessage);
    if (next !== undefined) await next;
  }
}
