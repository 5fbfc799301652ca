import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * A small MCP Streamable HTTP server over h2c whose tools misbehave on demand, for fault tests.
 * `tools/call` with name `fault` and `arguments.kind` picks the fault; `echo`, `slow`, `hold`
 * (answers on `releaseHeld()`) and `notify` (sends a notification on the session's GET stream)
 * behave. Like the servers people run, it holds a session's GET stream open (one per session: a
 * second GET gets 409, as from the official SDK) until the session or the stream ends.
 */
export type FaultKind =
  | 'reset'
  | 'stall'
  | 'malformed-json'
  | 'malformed-sse'
  | 'wrong-content-type'
  | 'huge'
  | 'endless'
  | 'http-500';

/**
 * Events a test can wait for (no sleeping): `held` (a `hold` call arrived), `cancelled-stream`,
 * `cancel-notification`, `get-open` and `get-close` (a session's GET stream).
 */
export type FaultServerEvent =
  | 'held'
  | 'cancelled-stream'
  | 'cancel-notification'
  | 'get-open'
  | 'get-close';

export interface FaultServer {
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Requests whose stream the client reset or closed before the answer. */
  readonly cancelledStreams: number;
  /** `notifications/cancelled` received. */
  readonly cancelNotifications: number;
  readonly sessions: ReadonlySet<string>;
  /** GET streams open now, and opened in all. */
  readonly openGetStreams: number;
  readonly getStreamsOpened: number;
  /** `hold` calls waiting for `releaseHeld()`. */
  readonly held: number;
  /** Answers every held call. */
  releaseHeld(): void;
  readonly events: EventEmitter<Record<FaultServerEvent, []>>;
  /** Sends GOAWAY on every open HTTP/2 session. */
  goaway(): void;
  /** Destroys every open socket without a GOAWAY. */
  destroySockets(): void;
  close(): Promise<void>;
}

const LATEST = '2025-11-25';

/** Streams this server finished itself; any other stream that closes was cut by the client. */
const answered = new WeakSet<http2.ServerHttp2Stream>();

function finish(stream: http2.ServerHttp2Stream, body?: string): void {
  answered.add(stream);
  stream.end(body);
}
// Over @mcp/http2's default maxResponseBytes (16 MiB).
export const HUGE_BODY_BYTES = 20 * 1024 * 1024;

export interface FaultServerOptions {
  port?: number;
  /** Answer GET with 405 (a server without a GET stream) instead of holding one open. */
  noGetStream?: boolean;
}

export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const sessions = new Set<string>();
  const getStreams = new Map<string, http2.ServerHttp2Stream>();
  const heldCalls: Array<() => void> = [];
  const events = new EventEmitter<Record<FaultServerEvent, []>>();
  let getStreamsOpened = 0;
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  let connections = 0;
  let cancelledStreams = 0;
  let cancelNotifications = 0;

  // The `huge` answer (20 MiB) stays queued in the session while the client reads slowly: with
  // node's default (10 MB) the session would refuse every new stream (ENHANCE_YOUR_CALM) until
  // it drains. That is this fake's limit, not the fault under test.
  const server = http2.createServer({ maxSessionMemory: 64 });
  server.on('session', (s) => {
    connections++;
    h2Sessions.add(s);
    s.on('close', () => h2Sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const method = headers[':method'];
    const sessionId = headers['mcp-session-id'] as string | undefined;
    if (method === 'DELETE') {
      if (sessionId) {
        sessions.delete(sessionId);
        getStreams.get(sessionId)?.end();
      }
      stream.respond({ ':status': 200 });
      finish(stream);
      return;
    }
    if (method === 'GET') {
      if (options.noGetStream) {
        stream.respond({ ':status': 405 });
        finish(stream);
        return;
      }
      if (sessionId === undefined || !sessions.has(sessionId)) {
        stream.respond({ ':status': sessionId === undefined ? 400 : 404 });
        finish(stream);
        return;
      }
      if (getStreams.has(sessionId)) {
        stream.respond({ ':status': 409 });
        finish(stream);
        return;
      }
      holdGetStream(sessionId, stream);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      let message: { id?: string | number; method?: string; params?: Record<string, unknown> };
      try {
        message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return json(stream, 400, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32700, message: 'Parse error' },
        });
      }
      if (message.method === 'initialize') {
        const id = randomUUID();
        sessions.add(id);
        return json(
          stream,
          200,
          {
            jsonrpc: '2.0',
            id: message.id,
            result: {
              protocolVersion: LATEST,
              capabilities: { tools: {} },
              serverInfo: { name: 'fault-server', version: '1.0.0' },
            },
          },
          { 'mcp-session-id': id },
        );
      }
      if (sessionId === undefined || !sessions.has(sessionId)) {
        return json(stream, sessionId === undefined ? 400 : 404, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32000, message: 'Unknown session' },
        });
      }
      if (message.id === undefined || message.method === undefined) {
        if (message.method === 'notifications/cancelled') {
          cancelNotifications++;
          events.emit('cancel-notification');
        }
        stream.respond({ ':status': 202 });
        finish(stream);
        return;
      }
      const reply = (result: unknown) =>
        json(stream, 200, { jsonrpc: '2.0', id: message.id, result });
      if (message.method === 'tools/list') {
        return reply({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] });
      }
      const name = message.params?.name;
      const args = (message.params?.arguments ?? {}) as Record<string, unknown>;
      if (name === 'echo')
        return reply({ content: [{ type: 'text', text: String(args.text ?? '') }] });
      if (name === 'slow') {
        const timer = setTimeout(
          () => reply({ content: [{ type: 'text', text: 'done' }] }),
          Number(args.ms ?? 100),
        );
        stream.on('close', () => clearTimeout(timer));
        return;
      }
      if (name === 'hold') {
        heldCalls.push(() => reply({ content: [{ type: 'text', text: 'released' }] }));
        events.emit('held');
        return;
      }
      if (name === 'notify') {
        const get = getStreams.get(sessionId);
        const note = {
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { data: args.text },
        };
        get?.write(`data: ${JSON.stringify(note)}\n\n`);
        return reply({ content: [{ type: 'text', text: get ? 'sent' : 'no GET stream' }] });
      }
      if (name === 'fault')
        return fault(stream, args.kind as FaultKind, message.id as string | number);
      return json(stream, 200, {
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32601, message: 'Unknown tool' },
      });
    });
    stream.on('close', () => {
      if (answered.has(stream)) return;
      cancelledStreams++;
      events.emit('cancelled-stream');
    });
  });

  function holdGetStream(sessionId: string, stream: http2.ServerHttp2Stream): void {
    answered.add(stream); // its end, by either side, is no cancelled request
    stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
    stream.write(': open\n\n');
    getStreams.set(sessionId, stream);
    getStreamsOpened++;
    events.emit('get-open');
    stream.on('close', () => {
      if (getStreams.get(sessionId) === stream) getStreams.delete(sessionId);
      events.emit('get-close');
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}/mcp`,
    port: actualPort,
    get connections() {
      return connections;
    },
    get cancelledStreams() {
      return cancelledStreams;
    },
    get cancelNotifications() {
      return cancelNotifications;
    },
    sessions,
    get openGetStreams() {
      return getStreams.size;
    },
    get getStreamsOpened() {
      return getStreamsOpened;
    },
    get held() {
      return heldCalls.length;
    },
    releaseHeld() {
      for (const answer of heldCalls.splice(0)) answer();
    },
    events,
    goaway() {
      for (const s of h2Sessions) s.goaway(http2.constants.NGHTTP2_NO_ERROR);
    },
    destroySockets() {
      for (const s of h2Sessions) s.socket.destroy();
    },
    close() {
      heldCalls.length = 0;
      for (const s of h2Sessions) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(
  stream: http2.ServerHttp2Stream,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (stream.destroyed) return;
  stream.respond({ ':status': status, 'content-type': 'application/json', ...headers });
  finish(stream, JSON.stringify(body));
}

function fault(stream: http2.ServerHttp2Stream, kind: FaultKind, id: string | number): void {
  switch (kind) {
    case 'reset':
      answered.add(stream);
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    case 'stall':
      return; // never answers; the client's timeout must end it
    case 'malformed-json':
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      finish(stream, '{"jsonrpc":"2.0","id":');
      return;
    case 'malformed-sse':
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      finish(stream, 'event: message\ndata: {not json\n\n');
      return;
    case 'wrong-content-type':
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      finish(stream, '<html>hello</html>');
      return;
    case 'http-500':
      stream.respond({ ':status': 500, 'content-type': 'text/plain' });
      finish(stream, 'internal failure');
      return;
    case 'huge': {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      const text = 'x'.repeat(HUGE_BODY_BYTES);
      finish(
        stream,
        JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } }),
      );
      return;
    }
    case 'endless': {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write(': open\n\n');
      const timer = setInterval(() => stream.write(': keep-alive\n\n'), 200);
      stream.on('close', () => clearInterval(timer));
      return;
    }
  }
}
