import type { Connection, JsonRpcResponse } from '@mcp/connection-core';
import type { ConnectionFactory } from '../src/options.ts';
import { TinyConnection } from './tiny-connection.ts';

let nextId = 1;

export function initialize(connection: Connection): Promise<JsonRpcResponse> {
  return connection.request({
    jsonrpc: '2.0',
    id: nextId++,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'pool-test', version: '1.0.0' },
    },
  });
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

/** A factory making TinyConnections, counting what it made. */
export function tinyFactory(): ConnectionFactory<object> & { made: TinyConnection[] } {
  const made: TinyConnection[] = [];
  const factory: ConnectionFactory<object> = (url, options) => {
    const connection = new TinyConnection(url, options.dispatcher);
    made.push(connection);
    return connection;
  };
  return Object.assign(factory, { made });
}
