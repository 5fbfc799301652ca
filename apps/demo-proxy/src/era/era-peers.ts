// Test support for the era suites: the proxy in front of one upstream, and SDK v2 clients of
// the 2026-07-28 era (the reference peers), closed together after each test.

import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { parseProxyConfig } from '../config.ts';
import { createProxyLogger } from '../logger.ts';
import { createPoolConnector } from '../pool-connector.ts';
import { type ProxyServer, startProxy } from '../proxy.ts';

export type UpstreamEra = '2025-11-25' | '2026-07-28' | 'both';

export interface BehindOptions {
  /** Cleartext HTTP/2 to the upstream (the default), else HTTP/1.1. */
  h2c?: boolean;
  bridgeSessions?: 'per-client' | 'per-request';
  /** `limits` of the proxy's config (defaults otherwise). */
  limits?: Record<string, number>;
}

/** What a modern client answers when the server asks it (through MRTR). */
export interface ModernClientOptions {
  token?: string;
  capabilities?: Record<string, object>;
  /** Answers `sampling/createMessage` with this text (and counts the requests). */
  sampled?: (prompt: string) => string;
}

/** The proxy and the clients of one test. */
export class EraPeers {
  proxy: ProxyServer | undefined;
  readonly #clients: Array<{ close(): Promise<void> }> = [];

  /** Starts the proxy in front of `url`; resolves with the upstream's endpoint through it. */
  async startBehind(url: string, era: UpstreamEra, options: BehindOptions = {}): Promise<string> {
    const bridgeSessions = options.bridgeSessions ?? 'per-client';
    const config = parseProxyConfig({
      listen: { host: '127.0.0.1', port: 0 },
      upstreams: [{ name: 'example', url, h2c: options.h2c ?? true, era, bridgeSessions }],
      limits: options.limits ?? {},
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
    this.proxy = await startProxy({
      config,
      logger: createProxyLogger(config),
      connector: createPoolConnector(config),
    });
    return `${this.proxy.url}/example/mcp`;
  }

  /** An SDK v2 client pinned to 2026-07-28, connected (discovery done) to `endpoint`. */
  async modernClient(endpoint: string, options: ModernClientOptions = {}): Promise<ModernClient> {
    const capabilities = options.capabilities ?? { elicitation: { form: {} } };
    const client = new ModernClient(
      { name: 'modern-test', version: '1.0.0' },
      { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    if (capabilities.elicitation !== undefined)
      client.setRequestHandler('elicitation/create', async () => ({
        action: 'accept',
        content: { confirm: true },
      }));
    const { sampled } = options;
    if (capabilities.sampling !== undefined && sampled !== undefined)
      client.setRequestHandler('sampling/createMessage', async (request) => {
        const first = request.params.messages[0]?.content;
        const prompt = first !== undefined && 'text' in first ? String(first.text) : '';
        return {
          role: 'assistant',
          content: { type: 'text', text: sampled(prompt) },
          model: 'test-model',
        };
      });
    const transport = new ModernTransport(new URL(endpoint), {
      requestInit: { headers: { authorization: `Bearer ${options.token ?? 'alice'}` } },
    });
    await client.connect(transport);
    this.#clients.push(client);
    return client;
  }

  /** Closes `closeable` with the rest after the test. */
  track(closeable: { close(): Promise<void> }): void {
    this.#clients.push(closeable);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#clients.splice(0).map((c) => c.close()));
    await this.proxy?.close();
    this.proxy = undefined;
  }
}
