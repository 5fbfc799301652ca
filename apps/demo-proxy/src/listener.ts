import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import type { z } from 'zod';
import type { ListenConfigSchema } from './config.ts';
import type { EdgeConfig } from './edge-config.ts';
import { type EdgeEvent, firstRequestDeadline, guardHttp2Session } from './edge-guards.ts';
import type { DownstreamRequest, DownstreamResponse } from './http-types.ts';

type ListenConfig = z.output<typeof ListenConfigSchema>;
type RequestListener = (req: DownstreamRequest, res: DownstreamResponse) => void;

/** The start of the HTTP/2 connection preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Bytes that tell the preface from an HTTP/1.1 request line (`PRI ` is no HTTP/1.1 method). */
const SNIFF_BYTES = 4;

/**
 * Reads the first bytes of a paused socket, puts them back, and reports whether they start the
 * HTTP/2 preface. Waits for more when a short first read is still a prefix of it (`P` could be
 * `POST` or `PRI `).
 */
function sniffProtocol(socket: net.Socket, onProtocol: (isH2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onReadable = (): void => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read()) {
      seen = Buffer.concat([seen, chunk]);
    }
    const n = Math.min(seen.length, SNIFF_BYTES);
    const matches = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matches && seen.length < SNIFF_BYTES) return; // wait for more bytes
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    if (seen.length > 0) socket.unshift(seen);
    onProtocol(matches);
  };
  const onEnd = (): void => {
    socket.off('readable', onReadable);
    socket.destroy();
  };
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
}

/** One port for HTTP/1.1 and HTTP/2 (cleartext by preface, or TLS by ALPN). */
export interface Listener {
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** Stops accepting, ends idle HTTP/1.1 connections and sends GOAWAY on HTTP/2 ones. */
  stopAccepting(): Promise<void>;
  /** Destroys whatever is still open. */
  destroy(): void;
}

export interface ListenerOptions {
  listen: ListenConfig;
  onRequest: RequestListener;
  /**
   * How long a client may take to send its request headers (HTTP/1.1) or its first bytes (any
   * cleartext connection), in ms; then the connection is closed (slowloris).
   */
  headersTimeoutMs: number;
  /** Connection cap, idle, handshake, write and stream-reset limits (see edge-config.ts). */
  edge: EdgeConfig;
  /** Told each time an edge limit acts (for the log and the metric). */
  onLimit: EdgeEvent;
}

/**
 * HTTP/2 sessions of the front. `maxSessionMemory` (MB, node's default 10) bounds what one
 * session may hold, answers waiting for the client's flow-control window included; past it node
 * refuses new streams with ENHANCE_YOUR_CALM. Sixteen 1 MB tool results relayed to a client
 * that reads with 64 KiB windows hold more than 10 MB (bench: the large scenario).
 */
const H2_SESSION_OPTIONS = { settings: { maxConcurrentStreams: 1000 }, maxSessionMemory: 64 };

/** Starts listening; resolves once the port is bound. */
export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { listen, onRequest, headersTimeoutMs, edge, onLimit } = options;
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<net.Socket>();
  /** Each connection's first-request deadline, by the socket its requests arrive on. */
  const deadlines = new WeakMap<net.Socket, { started(): void }>();
  const armDeadline = (socket: net.Socket): void => {
    deadlines.set(socket, firstRequestDeadline(socket, headersTimeoutMs, onLimit));
  };
  const track = (session: http2.ServerHttp2Session): void => {
    h2Sessions.add(session);
    session.once('close', () => h2Sessions.delete(session));
    guardHttp2Session(session, edge, onLimit);
    // The first-request deadline of an HTTP/2 connection is the session's own (its `socket` is a
    // proxy object, not the socket the connection came in on).
    const deadline = firstRequestDeadline(session, headersTimeoutMs, onLimit);
    session.once('stream', () => deadline.started());
  };

  let front: net.Server;
  let http1: http.Server | undefined;
  if (listen.tls) {
    const secure = http2.createSecureServer(
      {
        cert: readFileSync(listen.tls.cert),
        key: readFileSync(listen.tls.key),
        allowHTTP1: true,
        ...H2_SESSION_OPTIONS,
        handshakeTimeout: edge.handshakeTimeoutMs,
      },
      onRequest,
    );
    secure.on('session', track);
    secure.on('secureConnection', (socket: tls.TLSSocket) => {
      // HTTP/2 sessions get their limits in `track`; an HTTP/1.1 socket gets its own.
      if (socket.alpnProtocol === 'h2') return;
      armDeadline(socket);
      guardHttp1Socket(socket, edge, onLimit);
    });
    secure.on('request', (req: DownstreamRequest) => {
      if (req.httpVersionMajor === 1) deadlines.get(req.socket as net.Socket)?.started();
    });
    secure.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') onLimit('handshake_timeout');
    });
    front = secure;
  } else {
    http1 = http.createServer(
      {
        keepAlive: true,
        // Longer than clients' usual idle pools, so they reuse connections instead of racing
        // our close (Node's default is 5 s).
        keepAliveTimeout: 65_000,
        headersTimeout: headersTimeoutMs,
        requestTimeout: Math.max(300_000, headersTimeoutMs),
        // Node checks these timeouts on this interval (30 s by default): keep it finer.
        connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
      },
      onRequest,
    );
    // A socket on which nothing moves (a client that stopped reading) is destroyed.
    http1.setTimeout(edge.writeTimeoutMs, (socket: net.Socket) => {
      onLimit('write_timeout');
      socket.destroy();
    });
    // This server never listens (the front server hands it sockets), and Node starts the timer
    // that enforces headersTimeout on 'listening': start it. `close()` stops it.
    http1.emit('listening');
    const h2 = http2.createServer(H2_SESSION_OPTIONS, onRequest);
    h2.on('session', track);
    const h1 = http1;
    front = net.createServer({ pauseOnConnect: true }, (socket) => {
      // A connection that sends nothing is closed; once its protocol is known, the server that
      // takes it applies its own limits.
      socket.setTimeout(headersTimeoutMs, () => socket.destroy());
      sniffProtocol(socket, (isH2) => {
        socket.setTimeout(0);
        if (isH2) {
          h2.emit('connection', socket);
        } else {
          h1.emit('connection', socket);
          socket.resume();
        }
      });
      socket.on('error', () => socket.destroy());
    });
  }
  front.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Past the cap, Node closes each new connection as soon as it is accepted.
  front.maxConnections = edge.maxConnections;
  front.on('drop', () => onLimit('connections'));

  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(listen.port, listen.host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const address = front.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;

  return {
    port,
    protocol: listen.tls ? 'https' : 'http',
    async stopAccepting() {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      http1?.closeIdleConnections();
      for (const session of h2Sessions) session.close();
      // `front.close` resolves once every socket has ended; the caller bounds the wait.
      await Promise.race([closed, new Promise((r) => setImmediate(r))]);
    },
    destroy() {
      for (const session of h2Sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      http1?.closeAllConnections();
      // Stops its timeout timer; it never listened, so there is nothing else to close.
      http1?.close(() => {});
      front.close();
    },
  };
}

/** An HTTP/1.1 connection over TLS: destroyed when nothing moves on it (idle or not reading). */
function guardHttp1Socket(socket: tls.TLSSocket, edge: EdgeConfig, onLimit: EdgeEvent): void {
  socket.setTimeout(Math.min(edge.writeTimeoutMs, edge.connectionIdleTimeoutMs), () => {
    onLimit('connection_idle');
    socket.destroy();
  });
}
