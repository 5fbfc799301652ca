import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * The smallest MCP Streamable HTTP server over HTTP/2 (cleartext, or TLS with `tls`) that a client connection can
 * use: `initialize` gets a result and an `Mcp-Session-Id`, notifications get 202, other
 * requests a JSON result echoing their params, DELETE ends a session. `test/hold` requests are
 * answered only by `releaseHeld()`. It counts TCP connections, HTTP/2 sessions and streams.
 */
export class McpHttp2Server extends EventEmitter {
  readonly #server: http2.Http2Server | http2.Http2SecureServer;
  readonly #open = new Set<http2.ServerHttp2Session>();
  readonly #held: Array<() => void> = [];
  readonly #scheme: 'http' | 'https';
  /** PING frames received. */
  pings = 0;
  /** MCP sessions the server knows. */
  readonly mcpSessions = new Set<string>();
  tcpConnections = 0;
  h2Sessions = 0;
  streams = 0;
  deletes = 0;
  port = 0;

  readonly #serverStreams: boolean;
  /** GET (server-to-client) streams open now. */
  openServerStreams = 0;

  /** With `serverStreams`, a GET opens an SSE stream kept open until the client ends it. */
  constructor(options: { tls?: { key: Buffer; cert: Buffer }; serverStreams?: boolean } = {}) {
    super();
    this.#serverStreams = options.serverStreams ?? false;
    this.#server =
      options.tls === undefined ? http2.createServer() : http2.createSecureServer(options.tls);
    this.#scheme = options.tls === undefined ? 'http' : 'https';
  }

  get url(): string {
    return `${this.#scheme}://127.0.0.1:${this.port}/mcp`;
  }

  /** HTTP/2 sessions (TCP connections) open now. */
  get openSessions(): number {
    return this.#open.size;
  }

  get heldCount(): number {
    return this.#held.length;
  }

  /** Per open session: the receive windows the client granted (stream SETTINGS, connection). */
  get windowsGranted(): Array<{ stream: number | undefined; connection: number | undefined }> {
    return [...this.#open].map((session) => ({
      stream: session.remoteSettings.initialWindowSize,
      connection: session.state.remoteWindowSize,
    }));
  }

  async listen(): Promise<this> {
    this.#server.on('connection', () => {
      this.tcpConnections++;
    });
    this.#server.on('session', (session) => {
      this.h2Sessions++;
      this.#open.add(session);
      session.on('ping', () => {
        this.pings++;
        this.emit('ping');
      });
      session.on('close', () => {
        this.#open.delete(session);
        this.emit('sessionClose');
      });
      this.emit('session');
    });
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** Resolves once exactly `n` HTTP/2 sessions are open. */
  async waitForOpenSessions(n: number): Promise<void> {
    while (this.#open.size !== n) {
      await Promise.race([once(this, 'sessionClose'), once(this, 'session')]);
    }
  }

  /** Resolves once `n` requests are held. */
  async waitForHeld(n: number): Promise<void> {
    while (this.#held.length < n) await once(this, 'held');
  }

  /** Resolves once `n` GET streams are open. */
  async waitForServerStreams(n: number): Promise<void> {
    while (this.openServerStreams < n) await once(this, 'serverStream');
  }

  releaseHeld(): void {
    for (const release of this.#held.splice(0)) release();
  }

  /** Graceful GOAWAY on every open session: in-flight streams finish, no new ones are taken. */
  goAwayAll(): void {
    for (const session of this.#open) session.close();
  }

  /** A bare GOAWAY frame on every open session, without closing it (as some servers do). */
  goAwayRaw(): void {
    for (const session of this.#open) session.goaway(http2.constants.NGHTTP2_NO_ERROR);
  }

  /** Destroys every open TCP connection under the client's feet. */
  destroySockets(): void {
    for (const session of this.#open) session.socket.destroy();
  }

  async close(): Promise<void> {
    this.releaseHeld();
    for (const session of this.#open) session.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    this.streams++;
    stream.on('error', () => {});
    const method = headers[':method'];
    const sessionId = headers['mcp-session-id'];
    if (method === 'DELETE') {
      this.deletes++;
      const known = typeof sessionId === 'string' && this.mcpSessions.delete(sessionId);
      stream.respond({ ':status': known ? 200 : 404 });
      stream.end();
      return;
    }
    if (method === 'GET' && this.#serverStreams && typeof sessionId === 'string') {
      this.openServerStreams++;
      stream.on('close', () => {
        this.openServerStreams--;
      });
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write(': open\n\n');
      this.emit('serverStream');
      return;
    }
    if (method !== 'POST') {
      stream.respond({ ':status': 405 });
      stream.end();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      let message: { id?: string | number; method?: string; params?: unknown };
      try {
        message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        stream.respond({ ':status': 400 });
        stream.end();
        return;
      }
      this.#answer(stream, message, sessionId);
    });
  }

  #answer(
    stream: http2.ServerHttp2Stream,
    message: { id?: string | number; method?: string; params?: unknown },
    sessionId: string | string[] | undefined,
  ): void {
    if (message.method === 'initialize') {
      const id = randomUUID();
      this.mcpSessions.add(id);
      const params = message.params as { protocolVersion?: string } | undefined;
      respondJson(
        stream,
        { 'mcp-session-id': id },
        {
          jsonrpc: '2.0',
          id: message.id,
          result: {
            protocolVersion: params?.protocolVersion ?? '2025-11-25',
            capabilities: {},
            serverInfo: { name: 'mcp-h2c-fixture', version: '1.0.0' },
          },
        },
      );
      return;
    }
    if (typeof sessionId !== 'string' || !this.mcpSessions.has(sessionId)) {
      stream.respond({ ':status': sessionId === undefined ? 400 : 404 });
      stream.end();
      return;
    }
    if (message.id === undefined) {
      stream.respond({ ':status': 202 });
      stream.end();
      return;
    }
    const answer = (): void => {
      if (stream.destroyed) return;
      respondJson(
        stream,
        {},
        { jsonrpc: '2.0', id: message.id, result: { echo: message.params ?? null } },
      );
    };
    if (message.method === 'test/hold') {
      this.#held.push(answer);
      this.emit('held');
      return;
    }
    answer();
  }
}

function respondJson(
  stream: http2.ServerHttp2Stream,
  headers: Record<string, string>,
  body: unknown,
): void {
  stream.respond({ ':status': 200, 'content-type': 'application/json', ...headers });
  stream.end(JSON.stringify(body));
}
