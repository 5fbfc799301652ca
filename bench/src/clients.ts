/**
 * The clients a load generator can drive, each reduced to one session that can `call()` a tool.
 * SDK clients are used the way their docs show; the raw floors send fixed bytes with no MCP logic.
 * Each kind is imported only by the load generators that drive it.
 */
import http2 from 'node:http2';
import { H2CClient } from 'undici';

export interface BenchClient {
  call(): Promise<void>;
  close(): Promise<void>;
}

export type ClientKind =
  | 'ours'
  | 'ours-modern'
  | 'sdk-v1'
  | 'sdk-v2'
  | 'sdk-v1-ours'
  | 'sdk-v2-ours'
  | 'undici'
  | 'node-http2';

/** Clients that ride fetch, so HTTP/1.1: the SDKs' own transports. */
export const HTTP1_CLIENTS: readonly ClientKind[] = ['sdk-v1', 'sdk-v2'];

export type ClientFactory = (url: string, tool: string) => Promise<BenchClient>;

export const ECHO_ARGUMENTS = { text: 'hello from the bench' };

const PROTOCOL_VERSION = '2025-11-25';

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'bench', version: '1.0.0' },
  },
} as const;

export const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' } as const;

/**
 * The bytes of a tools/call with a given id, from a prebuilt prefix and suffix: the raw floors
 * need distinct ids (a proxy rejects a duplicate id in flight) without any JSON work per call.
 */
export function toolCallBytes(tool: string): (id: number) => string {
  const text = JSON.stringify(toolCall(0, tool));
  const [prefix, suffix] = text.split('"id":0');
  return (id) => `${prefix}"id":${id}${suffix}`;
}

export function toolCall(
  id: number,
  tool: string,
): {
  jsonrpc: '2.0';
  id: number;
  method: 'tools/call';
  params: { name: string; arguments: typeof ECHO_ARGUMENTS };
} {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: tool, arguments: ECHO_ARGUMENTS },
  };
}

const BASE_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/** undici `request()` over h2c (`H2CClient`: one connection): the HTTP floor, no MCP logic. */
const undiciRaw: ClientFactory = async (url, tool) => {
  const target = new URL(url);
  const pool = new H2CClient(target.origin, { maxConcurrentStreams: 1_000 });
  const post = async (body: string, headers: Record<string, string>) => {
    const response = await pool.request({
      path: target.pathname,
      method: 'POST',
      headers: { ...BASE_HEADERS, ...headers },
      body,
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}: ${text}`);
    return { text, headers: response.headers };
  };
  const init = await post(JSON.stringify(INITIALIZE), {});
  const sessionId = String(init.headers['mcp-session-id'] ?? '');
  const headers = {
    ...BASE_HEADERS,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': PROTOCOL_VERSION,
  };
  await post(JSON.stringify(INITIALIZED), headers);
  const bytes = toolCallBytes(tool);
  let id = 0;
  return {
    call: async () => {
      id += 1;
      const response = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers,
        body: bytes(id),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${text}`);
    },
    close: () => pool.close(),
  };
};

/** Plain `node:http2` streams on one session: the lowest floor in Node. */
const nodeHttp2Raw: ClientFactory = async (url, tool) => {
  const target = new URL(url);
  const session = http2.connect(target.origin);
  session.on('error', () => {});
  const post = (body: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }>(
      (resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': target.pathname,
          ...BASE_HEADERS,
          ...headers,
        });
        let responseHeaders: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => {
          responseHeaders = h;
        });
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () =>
          resolve({
            status: Number(responseHeaders[':status']),
            headers: responseHeaders,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        stream.on('error', reject);
        stream.end(body);
      },
    );
  const init = await post(JSON.stringify(INITIALIZE), {});
  const headers = {
    'mcp-session-id': String(init.headers['mcp-session-id'] ?? ''),
    'mcp-protocol-version': PROTOCOL_VERSION,
  };
  await post(JSON.stringify(INITIALIZED), headers);
  const bytes = toolCallBytes(tool);
  let id = 0;
  return {
    call: async () => {
      id += 1;
      const response = await post(bytes(id), headers);
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    },
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
  };
};

export async function clientFactory(kind: ClientKind): Promise<ClientFactory> {
  switch (kind) {
    case 'sdk-v1':
      return (await import('./clients-sdk.ts')).sdkV1;
    case 'sdk-v2':
      return (await import('./clients-sdk.ts')).sdkV2;
    case 'sdk-v1-ours':
      return (await import('./clients-sdk-transport.ts')).sdkV1Ours;
    case 'sdk-v2-ours':
      return (await import('./clients-sdk-transport.ts')).sdkV2Ours;
    case 'undici':
      return undiciRaw;
    case 'node-http2':
      return nodeHttp2Raw;
    case 'ours':
      return (await import('./client-ours.ts')).oursClient;
    case 'ours-modern':
      return (await import('./client-ours.ts')).oursModernClient;
  }
}
