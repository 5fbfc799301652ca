/** SDK clients that go through nginx and note which replica answered each of their requests. */

import { pongClient } from '@mcp/test-fixtures';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface Exchange {
  /** The JSON-RPC method ('response' for the client's answers), or the HTTP method without a body. */
  rpc: string;
  id: unknown;
  status: number;
  /** `host:port` of the replica nginx chose (X-Mcp-Replica), when it answered at all. */
  replica: string | undefined;
}

export interface TracedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  exchanges: Exchange[];
}

/** Connects an SDK client (sampling answered with "pong: <prompt>") to `endpoint`. */
export async function tracedClient(endpoint: string): Promise<TracedClient> {
  const exchanges: Exchange[] = [];
  const traced = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body =
      typeof init?.body === 'string'
        ? (JSON.parse(init.body) as { method?: string; id?: unknown })
        : undefined;
    const response = await fetch(input, init);
    exchanges.push({
      rpc: body === undefined ? (init?.method ?? 'GET') : (body.method ?? 'response'),
      id: body?.id,
      status: response.status,
      replica: response.headers.get('x-mcp-replica') ?? undefined,
    });
    return response;
  };
  const client = pongClient('cluster-test');
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), { fetch: traced });
  await client.connect(transport);
  return { client, transport, exchanges };
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** Settles with the time it took (from `since`) and what it gave. */
export async function timed<T>(
  promise: Promise<T>,
  since: () => number,
): Promise<{ ok: boolean; value?: T; error?: unknown; atMs: number }> {
  try {
    const value = await promise;
    return { ok: true, value, atMs: performance.now() - since() };
  } catch (error) {
    return { ok: false, error, atMs: performance.now() - since() };
  }
}
