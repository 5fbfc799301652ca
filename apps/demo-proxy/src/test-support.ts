/** Shared set-up for the proxy's tests: an example upstream, the proxy, SDK clients. */
import {
  initializeMessage,
  pongClient,
  type SdkServer,
  type SdkServerOptions,
  startSdkServer,
} from '@mcp/test-fixtures';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { DestinationStream } from 'pino';
import { Agent, request } from 'undici';
import { expect } from 'vitest';
import { type ProxyConfigInput, parseProxyConfig } from './config.ts';
import { createProxyLogger } from './logger.ts';
import { createPoolConnector } from './pool-connector.ts';
import { type ProxyServer, startProxy } from './proxy.ts';

export { within } from './test-wait.ts';

export interface Harness {
  upstream: SdkServer;
  proxy: ProxyServer;
  endpoint: string;
  close(): Promise<void>;
}

export async function startHarness(
  upstreamOptions: SdkServerOptions = {},
  overrides: Partial<ProxyConfigInput> = {},
  logDestination?: DestinationStream,
): Promise<Harness> {
  const upstream = await startSdkServer({ http: 'h2c', ...upstreamOptions });
  const config = parseProxyConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstreams: [{ name: 'example', url: upstream.url, h2c: upstream.http === 'h2c' }],
    pool: { connectionsPerOrigin: 2 },
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
  const proxy = await startProxy({
    config,
    logger: createProxyLogger(config, logDestination),
    connector: createPoolConnector(config),
  });
  return {
    upstream,
    proxy,
    endpoint: `${proxy.url}/example/mcp`,
    async close() {
      await proxy.close();
      await upstream.close();
    },
  };
}

/**
 * An SDK client connected through the proxy; it answers sampling requests with "pong: <prompt>".
 * `fetch`, when given, carries every HTTP request of the client (to spread them over replicas).
 */
export async function connectClient(
  endpoint: string,
  fetch?: StreamableHTTPClientTransportOptions['fetch'],
): Promise<Client> {
  const client = pongClient('proxy-test');
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { fetch }));
  return client;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const rawAgent = new Agent({ connections: 16 });

/** A raw HTTP/1.1 request to the proxy, for the bad-input cases. */
export async function raw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const res = await request(url, {
    method: (init.method ?? 'POST') as 'POST',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
    dispatcher: rawAgent,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

export const INITIALIZE = initializeMessage({ id: 1, clientInfo: { name: 'raw', version: '1' } });

/** Opens a session with raw requests; returns its proxy session id. */
export async function rawSession(endpoint: string): Promise<string> {
  const init = await raw(endpoint, { headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) });
  const id = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof id !== 'string')
    throw new Error(`initialize: HTTP ${init.status} ${init.text}`);
  await raw(endpoint, {
    headers: { ...MCP_HEADERS, 'mcp-session-id': id },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return id;
}

/** Waits until the proxy has `count` requests in flight (its own counter, read in-process). */
export async function inFlight(harness: Harness, count: number, what: string): Promise<void> {
  const { load } = harness.proxy.context;
  await expect
    .poll(() => load.inFlight, { message: `${what}: ${count} in flight expected` })
    .toBe(count);
}

/** Reads one metric's summed value from the proxy's /metrics. */
export async function metricValue(proxyUrl: string, name: string, labels = ''): Promise<number> {
  const { text } = await raw(`${proxyUrl}/metrics`, { method: 'GET' });
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && line.includes(labels) && !line.startsWith('#')) {
      const rest = line.slice(name.length);
      if (rest.startsWith('{') || rest.startsWith(' '))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}
