import type { JsonRpcNotification, JsonRpcRequest } from '@mcp/connection-core';

let nextId = 1;

export function initializeRequest(
  protocolVersion = '2025-11-25',
  capabilities: Record<string, unknown> = { sampling: {} },
): JsonRpcRequest {
  return {
    jsonrpc: '2.0',
    id: nextId++,
    method: 'initialize',
    params: { protocolVersion, capabilities, clientInfo: { name: 'test', version: '1.0.0' } },
  };
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
