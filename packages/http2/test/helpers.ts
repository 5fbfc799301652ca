import type { JsonRpcNotification, JsonRpcRequest } from '@mcp/connection-core';
import { initializeMessage } from '@mcp/test-fixtures';
import { Dispatcher } from 'undici';
import { afterEach } from 'vitest';

/** What a test opens: connections and servers close, undici pools are destroyed. */
type Closable = { close(): Promise<unknown> } | Dispatcher;

/**
 * Closes after each test what the test handed to the returned `own` (which gives it back), the
 * last opened first: a connection before the pool it rides on, before the server they talk to.
 */
export function closeAfterEach(): <T extends Closable>(thing: T) => T {
  const owned: Closable[] = [];
  afterEach(async () => {
    for (const thing of owned.splice(0).reverse()) {
      await (thing instanceof Dispatcher ? thing.destroy() : thing.close());
    }
  });
  return (thing) => {
    owned.push(thing);
    return thing;
  };
}

let nextId = 1;

export function initializeRequest(
  protocolVersion = '2025-11-25',
  capabilities: Record<string, unknown> = { sampling: {} },
): JsonRpcRequest {
  return initializeMessage({ id: nextId++, protocolVersion, capabilities });
}

export const initialized: JsonRpcNotification = {
  jsonrpc: '2.0',
  method: 'notifications/initialized',
};

export function call(
  name: string,
  args: Record<string, unknown>,
  meta?: Record<string, unknown>,
): JsonRpcRequest {
  const params: Record<string, unknown> = { name, arguments: args };
  if (meta !== undefined) params._meta = meta;
  return { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params };
}

export function request(method: string, params?: Record<string, unknown>): JsonRpcRequest {
  return params === undefined
    ? { jsonrpc: '2.0', id: nextId++, method }
    : { jsonrpc: '2.0', id: nextId++, method, params };
}

export function textOf(response: unknown): string | undefined {
  const result = (response as { result?: { content?: Array<{ text?: string }> } }).result;
  return result?.content?.[0]?.text;
}
