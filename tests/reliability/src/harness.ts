import type { EventEmitter } from 'node:events';
import {
  type Connection,
  isJsonRpcErrorResponse,
  isMcpConnectionError,
  type JsonRpcResponse,
} from '@mcp/connection-core';
import { createHttp2Connection } from '@mcp/http2';
import { initializeMessage } from '@mcp/test-fixtures';
import { type ProxyConfigInput, parseProxyConfig } from 'demo-proxy/src/config.ts';
import { createLogger } from 'demo-proxy/src/logger.ts';
import { createPoolConnector } from 'demo-proxy/src/pool-connector.ts';
import { type ProxyServer, startProxy } from 'demo-proxy/src/proxy.ts';
import { within } from 'demo-proxy/src/test-wait.ts';
import { Agent } from 'undici';

/** The proxy in front of one upstream named `up`, served at `${proxy.url}/up/mcp`. */
export async function startProxyFor(
  upstreamUrl: string,
  overrides: { limits?: ProxyConfigInput['limits']; pool?: ProxyConfigInput['pool'] } = {},
): Promise<{ proxy: ProxyServer; endpoint: string }> {
  const config = parseProxyConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstreams: [{ name: 'up', url: upstreamUrl, h2c: true }],
    pool: { connectionsPerOrigin: 2, ...overrides.pool },
    limits: { requestTimeoutMs: 5_000, drainTimeoutMs: 1_000, ...overrides.limits },
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const proxy = await startProxy({
    config,
    logger: createLogger(config.logLevel),
    connector: createPoolConnector(config),
  });
  return { proxy, endpoint: `${proxy.url}/up/mcp` };
}

export interface Client {
  connection: Connection;
  dispatcher: Agent;
  close(): Promise<void>;
}

let nextId = 1;

/**
 * An initialized MCP session over h2c with our own client, to `endpoint`. It opens its GET
 * stream (as the SDK clients do), so server-initiated messages flow through the proxy's relay.
 */
export async function openClient(endpoint: string, requestTimeoutMs = 10_000): Promise<Client> {
  const dispatcher = new Agent({ allowH2: true, useH2c: true, connections: 1 } as Agent.Options);
  const connection = createHttp2Connection({
    url: endpoint,
    dispatcher,
    requestTimeoutMs,
    serverStream: 'auto',
  });
  const init = await connection.request(
    initializeMessage({ id: nextId++, clientInfo: { name: 'reliability', version: '1.0.0' } }),
  );
  if (!('result' in init)) throw new Error(`initialize failed: ${JSON.stringify(init)}`);
  await connection.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return {
    connection,
    dispatcher,
    async close() {
      await connection.close();
      await dispatcher.close();
    },
  };
}

export function callTool(
  connection: Connection,
  name: string,
  args: Record<string, unknown> = {},
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<JsonRpcResponse> {
  return connection.request(
    { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } },
    options,
  );
}

export type Outcome =
  | { kind: 'result'; text: string }
  | { kind: 'rpc-error'; code: number }
  | { kind: 'typed-error'; code: string };

/**
 * Settles a call into what happened. Anything but a response or one of our typed errors
 * (a raw TypeError, a string) is a bug: it is rethrown so the test fails.
 */
export async function outcome(call: Promise<JsonRpcResponse>): Promise<Outcome> {
  try {
    const response = await call;
    if (isJsonRpcErrorResponse(response)) return { kind: 'rpc-error', code: response.error.code };
    const content = (response.result as { content?: Array<{ text?: string }> }).content ?? [];
    return { kind: 'result', text: content.map((c) => c.text ?? '').join('') };
  } catch (err) {
    if (isMcpConnectionError(err)) return { kind: 'typed-error', code: err.code };
    throw err;
  }
}

export { within } from 'demo-proxy/src/test-wait.ts';

/**
 * Resolves once `check()` holds, checking now and on each `event` of `emitter` (a server-side
 * counter moving); rejects after `ms`, saying what did not happen.
 */
export async function until(
  emitter: EventEmitter,
  event: string,
  check: () => boolean,
  what: string,
  ms = 5_000,
): Promise<void> {
  if (check()) return;
  let onEvent = (): void => {};
  const met = new Promise<void>((resolve) => {
    onEvent = () => {
      if (check()) resolve();
    };
    emitter.on(event, onEvent);
  });
  try {
    await within(ms, met, what);
  } finally {
    emitter.off(event, onEvent);
  }
}

/** The next server-initiated message the client receives on its GET stream. */
export function nextServerMessage(client: Client, what: string, ms = 5_000): Promise<unknown> {
  return within(ms, client.connection.receive(), what);
}
