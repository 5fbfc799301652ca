import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Req = Http2ServerRequest;
export type Res = Http2ServerResponse;

export interface TestCertificate {
  key: string;
  cert: string;
}

/** A self-signed certificate for 127.0.0.1 / localhost, made with openssl for this test run. */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-h2-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RpcMessage {
  jsonrpc: '2.0';
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
}

/** Lets a test take over some requests; return true when it answered. */
export type Intercept = (
  req: Req,
  res: Res,
  message: RpcMessage | undefined,
) => boolean | Promise<boolean>;

export interface H2Server {
  url: string;
  /** TCP connections accepted. */
  connections: number;
  /** HTTP/2 streams (or HTTP/1.1 requests) seen. */
  streams: number;
  /** Most requests open at the same time. */
  maxOpen: number;
  open: number;
  /** Headers of every POST after initialize: session id and protocol version. */
  posts: Array<{
    method: string | undefined;
    sessionId?: string;
    protocolVersion?: string;
    authorization?: string;
  }>;
  /** `initialize` requests received (the first, and every replay). */
  initializes: number;
  /** Received notifications/cancelled params. */
  cancelled: unknown[];
  deleted: string[];
  /** When set, a request waits until this many are open at once (or 5 s pass). */
  holdUntilOpen: number;
  intercept: Intercept | undefined;
  forgetSessions(): void;
  /** Sends GOAWAY on every HTTP/2 session. */
  goaway(): void;
  /** Destroys every TCP connection. */
  destroyConnections(): void;
  close(): Promise<void>;
}

export interface H2ServerOptions {
  /** Serve TLS with this certificate (HTTP/2 by ALPN); plain h2c when absent. */
  tls?: TestCertificate;
  /** With `tls`: offer only http/1.1 in ALPN (an HTTPS/1.1 server). */
  http1Only?: boolean;
}

const PROTOCOL_VERSION = '2025-11-25';

export async function startH2Server(options: H2ServerOptions = {}): Promise<H2Server> {
  const sessions = new Set<string>();
  const h2Sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];

  const state: H2Server = {
    url: '',
    connections: 0,
    streams: 0,
    maxOpen: 0,
    open: 0,
    posts: [],
    initializes: 0,
    cancelled: [],
    deleted: [],
    holdUntilOpen: 0,
    intercept: undefined,
    forgetSessions: () => sessions.clear(),
    goaway: () => {
      for (const s of h2Sessions) s.goaway();
    },
    destroyConnections: () => {
      for (const s of h2Sessions) s.destroy();
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const w of waiters.splice(0)) w();
      for (const s of h2Sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const hold = async (): Promise<void> => {
    if (state.holdUntilOpen <= 0) return;
    if (state.open >= state.holdUntilOpen) {
      for (const w of waiters.splice(0)) w();
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  const json = (res: Res, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: Req, res: Res): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const message = text.length > 0 ? (JSON.parse(text) as RpcMessage) : undefined;
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    if (req.method === 'POST' && message?.method !== 'initialize') {
      const entry: H2Server['posts'][number] = { method: message?.method };
      if (sessionId !== undefined) entry.sessionId = sessionId;
      const pv = req.headers['mcp-protocol-version'];
      if (typeof pv === 'string') entry.protocolVersion = pv;
      const auth = req.headers.authorization;
      if (typeof auth === 'string') entry.authorization = auth;
      state.posts.push(entry);
    }
    if (state.intercept !== undefined && (await state.intercept(req, res, message))) return;
    if (sessionId !== undefined && !sessions.has(sessionId)) {
      json(res, 404, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32001, message: 'Session not found' },
      });
      return;
    }
    if (req.method === 'DELETE') {
      if (sessionId !== undefined) {
        sessions.delete(sessionId);
        state.deleted.push(sessionId);
      }
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET') {
      json(res, 405, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32000, message: 'no GET stream' },
      });
      return;
    }
    if (message === undefined) {
      json(res, 400, { error: 'empty' });
      return;
    }
    if (message.method === 'initialize') {
      state.initializes++;
      const id = randomUUID();
      sessions.add(id);
      json(
        res,
        200,
        {
          jsonrpc: '2.0',
          id: message.id,
          result: {
            protocolVersion: PROTOCOL_VERSION,
            capabilities: {},
            serverInfo: { name: 'h2-fixture', version: '1' },
          },
        },
        { 'mcp-session-id': id },
      );
      return;
    }
    if (message.id === undefined || message.method === undefined) {
      if (message.method === 'notifications/cancelled') state.cancelled.push(message.params);
      res.writeHead(202).end();
      return;
    }
    await hold();
    json(res, 200, { jsonrpc: '2.0', id: message.id, result: { echo: message.params ?? {} } });
  };

  const onRequest = (req: Req, res: Res) => {
    state.streams++;
    state.open++;
    if (state.open > state.maxOpen) state.maxOpen = state.open;
    res.on('close', () => {
      state.open--;
    });
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };

  const server = options.tls
    ? options.http1Only
      ? createHttpsServer({ ...options.tls, ALPNProtocols: ['http/1.1'] }, onRequest as never)
      : createSecureServer({ ...options.tls, allowHTTP1: true }, onRequest)
    : createH2cServer(onRequest);
  server.on('connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => {});
  server.on('session', (session: Http2Session) => {
    h2Sessions.add(session);
    session.on('close', () => h2Sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`;
  return state;
}
