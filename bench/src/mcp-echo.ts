/**
 * The MCP logic of the fast echo upstream, independent of HTTP version: just enough of MCP for
 * the clients under test (initialize with a session id, or 2026-07-28's server/discover,
 * tools/list, tools/call echo and a slow `sleep` tool, 202 to notifications).
 */

export const ECHO_TOOL = 'echo';
export const SLEEP_TOOL = 'sleep';
export const SLEEP_MS = 500;

export interface EchoReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

const TOOLS = [
  {
    name: ECHO_TOOL,
    description: 'Echoes its text argument.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
  },
  {
    name: SLEEP_TOOL,
    description: `Answers after ${SLEEP_MS} ms.`,
    inputSchema: { type: 'object', properties: {} },
  },
];

interface IncomingRpc {
  id?: string | number;
  method?: string;
  params?: { protocolVersion?: string; name?: string; arguments?: { text?: unknown } };
}

let sessionCounter = 0;

function result(id: string | number | undefined, value: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result: value });
}

/** Answers one POST body; resolves later only for the slow tool. */
export function answerPost(body: string): EchoReply | Promise<EchoReply> {
  let message: IncomingRpc;
  try {
    message = JSON.parse(body) as IncomingRpc;
  } catch {
    return { status: 400, headers: JSON_HEADERS, body: '{"error":"parse"}' };
  }
  if (message.id === undefined) return { status: 202, headers: {}, body: '' };
  switch (message.method) {
    case 'initialize': {
      sessionCounter += 1;
      return {
        status: 200,
        headers: { ...JSON_HEADERS, 'mcp-session-id': `echo-${process.pid}-${sessionCounter}` },
        body: result(message.id, {
          protocolVersion: message.params?.protocolVersion ?? '2025-11-25',
          capabilities: { tools: {} },
          serverInfo: { name: 'bench-echo', version: '1.0.0' },
        }),
      };
    }
    case 'server/discover':
      // The 2026-07-28 era's handshake: the echo serves both eras (it keeps no session state).
      return {
        status: 200,
        headers: JSON_HEADERS,
        body: result(message.id, {
          resultType: 'complete',
          supportedVersions: ['2026-07-28'],
          capabilities: { tools: {} },
          ttlMs: 0,
          cacheScope: 'public',
          _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'bench-echo', version: '1.0.0' } },
        }),
      };
    case 'tools/list':
      return { status: 200, headers: JSON_HEADERS, body: result(message.id, { tools: TOOLS }) };
    case 'tools/call': {
      const reply: EchoReply = {
        status: 200,
        headers: JSON_HEADERS,
        body: result(message.id, {
          content: [{ type: 'text', text: String(message.params?.arguments?.text ?? '') }],
        }),
      };
      if (message.params?.name !== SLEEP_TOOL) return reply;
      return new Promise((resolve) => setTimeout(() => resolve(reply), SLEEP_MS));
    }
    case 'ping':
      return { status: 200, headers: JSON_HEADERS, body: result(message.id, {}) };
    default:
      return {
        status: 200,
        headers: JSON_HEADERS,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32601, message: 'Method not found' },
        }),
      };
  }
}

/** GET (no standalone stream offered) and DELETE (session end). */
export function answerOther(method: string): EchoReply {
  if (method === 'DELETE') return { status: 200, headers: {}, body: '' };
  return { status: 405, headers: { allow: 'POST, DELETE' }, body: '' };
}
