import type { Connection, JsonRpcResponse } from '@mcp/connection-core';
import { initializeMessage } from '@mcp/test-fixtures';
import { createPooledHttp2Connection } from '../src/default-factory.ts';
import type { ConnectionFactory } from '../src/options.ts';

let nextId = 1;

export function initialize(connection: Connection): Promise<JsonRpcResponse> {
  return connection.request(
    initializeMessage({ id: nextId++, clientInfo: { name: 'pool-test', version: '1.0.0' } }),
  );
}

export function echo(
  connection: Connection,
  params: Record<string, unknown> = {},
): Promise<JsonRpcResponse> {
  return connection.request({ jsonrpc: '2.0', id: nextId++, method: 'test/echo', params });
}

export function hold(connection: Connection): Promise<JsonRpcResponse> {
  return connection.request({ jsonrpc: '2.0', id: nextId++, method: 'test/hold' });
}

/** The default factory, counting what it made. */
export function countingFactory(): ConnectionFactory<object> & { made: Connection[] } {
  const made: Connection[] = [];
  const factory: ConnectionFactory<object> = (url, options) => {
    const connection = createPooledHttp2Connection(url, options);
    made.push(connection as Connection);
    return connection;
  };
  return Object.assign(factory, { made });
}
