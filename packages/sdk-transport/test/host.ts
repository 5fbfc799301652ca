// A small MCP Streamable HTTP host for the tests: one official-SDK server session per MCP
// session, over HTTP/1.1 or cleartext HTTP/2, recording what the tests check (DELETEs,
// cancellations, TCP connections). These servers belong in the shared `tests/fixtures`
// package (@mcp/test-fixtures) once it lands in main.
import { EventEmitter, once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';

export type HttpFlavor = 'h1' | 'h2c';
// node:http2's compatibility API offers what these tests use of node:http's request and response.
export type NodeRequest = IncomingMessage;
export type NodeResponse = ServerResponse;

/** One server-side MCP session, made by an SDK-specific factory (server-v1.ts, server-v2.ts). */
export interface HostedSession {
  /** Serves one HTTP request of this session; `body` is the parsed POST body. */
  handle(req: NodeRequest, res: NodeResponse, body: unknown): Promise<void>;
  /** Sends `notifications/resources/updated` if this session subscribed to `uri`. */
  touch(uri: string): Promise<void>;
  close(): Promise<void>;
}

/** Makes a session; it calls `registered(id)` once `initialize` gave it an id. */
export type SessionFactory = (registered: (id: string) => void) => Promise<HostedSession>;

export interface TestServer {
  url: string;
  flavor: HttpFlavor;
  /** TCP connections accepted so far. */
  tcpConnections(): number;
  /** Session ids ended by DELETE. */
  readonly deleted: string[];
  /** `notifications/cancelled` params received. */
  readonly cancelled: Array<{ requestId?: unknown; reason?: unknown }>;
  /** Resolves once the session's GET stream is open (its 200 went out), bounded by 5 s. */
  streamOpen(sessionId: string): Promise<void>;
  /** Resolves with the `notifications/cancelled` numbered `index` (from 0), bounded by 5 s. */
  cancellation(index: number): Promise<{ requestId?: unknown; reason?: unknown }>;
  /** Sessions the server knows now. */
  sessions(): number;
  /** Forgets every session, as a restarted server would: their next request gets 404. */
  forgetSessions(): Promise<void>;
  /** Tells every session subscribed to `uri` that it changed. */
  touch(uri: string): Promise<void>;
  close(): Promise<void>;
}

async function readJson(req: NodeRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : JSON.parse(text);
}

function header(req: NodeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export interface HostOptions {
  /** When set, requests without `authorization: <this>` get 401 and a Bearer challenge. */
  authorization?: string;
}

export async function startHost(
  flavor: HttpFlavor,
  factory: SessionFactory,
  options: HostOptions = {},
): Promise<TestServer> {
  const sessions = new Map<string, HostedSession>();
  const deleted: string[] = [];
  const cancelled: TestServer['cancelled'] = [];
  const sockets = new Set<Socket>();
  const opened = new Set<string>();
  const events = new EventEmitter();
  let connections = 0;

  const handle = async (req: NodeRequest, res: NodeResponse): Promise<void> => {
    if (
      options.authorization !== undefined &&
      req.headers.authorization !== options.authorization
    ) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="mcp", scope="tools"' });
      res.end();
      return;
    }
    const sessionId = header(req, 'mcp-session-id');
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const message = body as { method?: string; params?: TestServer['cancelled'][number] };
    if (message?.method === 'notifications/cancelled') {
      cancelled.push(message.params ?? {});
      events.emit('cancelled');
    }
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (session === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}',
        );
        return;
      }
      if (req.method === 'DELETE') {
        deleted.push(sessionId);
        sessions.delete(sessionId);
      }
      if (req.method === 'GET')
        announceStreamOpen(res, () => {
          opened.add(sessionId);
          events.emit('stream', sessionId);
        });
      await session.handle(req, res, body);
      return;
    }
    const session = await factory((id) => sessions.set(id, session));
    await session.handle(req, res, body);
  };
  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  };

  const server =
    flavor === 'h1'
      ? http.createServer(onRequest)
      : http2.createServer(onRequest as unknown as Parameters<typeof http2.createServer>[0]);
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const forgetSessions = async (): Promise<void> => {
    const all = [...sessions.values()];
    sessions.clear();
    await Promise.all(all.map((s) => s.close().catch(() => {})));
  };
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    flavor,
    tcpConnections: () => connections,
    deleted,
    cancelled,
    sessions: () => sessions.size,
    streamOpen: (sessionId) =>
      waitUntil(events, 'stream', () => opened.has(sessionId), `GET stream of ${sessionId}`),
    cancellation: async (index) => {
      await waitUntil(events, 'cancelled', () => cancelled.length > index, `cancel #${index}`);
      return cancelled[index] ?? {};
    },
    forgetSessions,
    async touch(uri) {
      await Promise.all([...sessions.values()].map((s) => s.touch(uri)));
    },
    async close() {
      await forgetSessions();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls `opened` once a 200 goes out on `res`: then the SDK has the stream in its map. */
function announceStreamOpen(res: NodeResponse, opened: () => void): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => NodeResponse;
  res.writeHead = ((...args: unknown[]) => {
    const result = writeHead(...args);
    if (args[0] === 200) opened();
    return result;
  }) as NodeResponse['writeHead'];
}

/** Resolves once `done()` holds, checked now and on each `event`; rejects after 5 s. */
async function waitUntil(
  events: EventEmitter,
  event: string,
  done: () => boolean,
  what: string,
): Promise<void> {
  const signal = AbortSignal.timeout(5000);
  while (!done()) {
    await once(events, event, { signal }).catch(() => {
      throw new Error(`Timed out waiting for ${what}`);
    });
  }
}

/** Writes a fetch `Response` (the v2 SDK's answer) to a node:http or node:http2 response. */
export async function writeResponse(response: Response, res: NodeResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'connection' && name !== 'transfer-encoding' && name !== 'keep-alive') {
      headers[name] = value;
    }
  });
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on('close', () => {
    reader.cancel().catch(() => {});
  });
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    res.write(value);
  }
  res.end();
}

/** A fetch `Request` for the v2 SDK from a node:http or node:http2 request. */
export function toFetchRequest(req: NodeRequest, body: unknown, url: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return new Request(url, {
    method: req.method ?? 'GET',
    headers,
    body: body === undefined ? null : JSON.stringify(body),
  });
}
