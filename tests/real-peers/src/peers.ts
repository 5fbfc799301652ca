/** The upstreams of the real-peer matrix, the proxy with default settings, and SDK clients. */
import {
  FIXTURE_TLS,
  pongClient,
  startLegacySseServer,
  startSdkServer,
  startSdkV2Server,
} from '@mcp/test-fixtures';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseProxyConfig } from 'demo-proxy/src/config.ts';
import { createLogger } from 'demo-proxy/src/logger.ts';
import { createPoolConnector } from 'demo-proxy/src/pool-connector.ts';
import { type ProxyServer, startProxy } from 'demo-proxy/src/proxy.ts';

export type UpstreamKind =
  | 'sdk-v1 sse (http/1.1)'
  | 'sdk-v1 json (http/1.1)'
  | 'sdk-v1 stateless (http/1.1)'
  | 'sdk-v2 (http/1.1)'
  | 'sdk-v1 legacy http+sse (http/1.1)'
  | 'sdk-v1 sse (h2c)'
  | 'sdk-v1 sse (tls h2)';

export interface Upstream {
  readonly url: string;
  readonly h2c: boolean;
  /** Resolves once the upstream holds exactly `count` sessions (none where it is stateless). */
  waitForSessions(count: number): Promise<void>;
  /** Resolves once the upstream holds `count` GET streams (where the fixture counts them). */
  waitForGetStreams?(count: number): Promise<void>;
  /** False for a stateless server: no sessions, and no way to ask the client anything. */
  readonly stateful: boolean;
  close(): Promise<void>;
}

export async function startUpstream(kind: UpstreamKind): Promise<Upstream> {
  switch (kind) {
    case 'sdk-v2 (http/1.1)': {
      const server = await startSdkV2Server();
      return { url: server.url, h2c: false, stateful: true, ...observe(server) };
    }
    case 'sdk-v1 legacy http+sse (http/1.1)': {
      const server = await startLegacySseServer();
      return { url: server.url, h2c: false, stateful: true, ...observe(server) };
    }
    default: {
      const [, mode, http] = /^sdk-v1 (\w+) \((.+)\)$/.exec(kind) ?? [];
      const server = await startSdkServer({
        mode: mode as 'sse' | 'json' | 'stateless',
        http: http === 'h2c' ? 'h2c' : http === 'tls h2' ? 'h2' : 'http1',
      });
      return {
        url: server.url,
        h2c: server.http === 'h2c',
        stateful: mode !== 'stateless',
        ...observe(server),
        ...(mode === 'stateless' ? {} : { waitForGetStreams: (n) => server.waitForGetStreams(n) }),
      };
    }
  }
}

function observe(server: {
  waitForSessions(count: number): Promise<void>;
  close(): Promise<void>;
}): Pick<Upstream, 'waitForSessions' | 'close'> {
  return { waitForSessions: (n) => server.waitForSessions(n), close: () => server.close() };
}

/** The proxy with default settings, in front of `upstream` at `/up/mcp`. */
export async function startDefaultProxy(
  upstream: Pick<Upstream, 'url' | 'h2c'> & { era?: '2025-11-25' | '2026-07-28' | 'both' },
): Promise<ProxyServer> {
  const { url, h2c, era } = upstream;
  const config = parseProxyConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstreams: [{ name: 'up', url, h2c, ...(era === undefined ? {} : { era }) }],
    // Trusting the fixture's self-signed certificate is not tuning: nothing else is set.
    pool: upstream.url.startsWith('https:') ? { ca: [FIXTURE_TLS.caPath] } : {},
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  return startProxy({
    config,
    logger: createLogger(config.logLevel),
    connector: createPoolConnector(config),
  });
}

export interface SdkSession {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Resolves once the SDK's GET stream is open (the proxy answered it with 200). */
  getStreamOpen: Promise<void>;
}

/**
 * An official SDK v1 client session through the proxy. It answers sampling with
 * `pong: <prompt>` and, as the SDK does, opens its GET stream after `initialized`. With
 * `authorization` it sends that header (the proxy counts its sessions per client by it).
 */
export async function openSdkSession(
  endpoint: string,
  authorization?: string,
): Promise<SdkSession> {
  let opened: () => void = () => {};
  const getStreamOpen = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const watchingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (init?.method === 'GET' && response.status === 200) opened();
    return response;
  };
  const client = pongClient('matrix');
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
    fetch: watchingFetch,
    ...(authorization === undefined ? {} : { requestInit: { headers: { authorization } } }),
  });
  await client.connect(transport);
  return { client, transport, getStreamOpen };
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** Rejects with `what` when `promise` has not settled within `ms`. */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
