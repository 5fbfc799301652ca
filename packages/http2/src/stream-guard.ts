import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientHttp2Stream } from 'node:http2';

const GUARDED = Symbol('mcp.http2.guarded-socket');
/** On a session: whether its socket is one of ours, found for its first stream. */
const OURS = Symbol('mcp.http2.guarded-session');
let watching = false;

function noop(): void {}

/**
 * Gives every HTTP/2 stream opened on `socket` (a socket one of our undici dispatchers
 * connected) an 'error' listener that does nothing. undici 8.13.1 lets go of a stream it
 * aborted before its response came (a GET stream still opening) without destroying it; when the
 * client is then destroyed, node destroys that stream with the client's error, and an 'error'
 * event nobody listens to would crash the process. undici's own listeners still get every
 * error: this only keeps an unwatched one from becoming an uncaught exception.
 *
 * One `http2.client.stream.created` subscriber serves the whole process; streams on sockets
 * that are not ours are left alone.
 */
export function guardHttp2Streams(socket: object): void {
  (socket as Record<symbol, unknown>)[GUARDED] = true;
  if (watching) return;
  watching = true;
  diagnosticsChannel.subscribe('http2.client.stream.created', onStreamCreated);
}

function onStreamCreated(message: unknown): void {
  const { stream } = message as { stream: ClientHttp2Stream };
  const session = stream.session as unknown as Record<symbol, unknown> | undefined;
  if (session === undefined) return;
  let ours = session[OURS];
  if (ours === undefined) {
    ours = false;
    try {
      // `session.socket` is node's proxy to the socket: a symbol read reaches the socket itself.
      ours = (stream.session?.socket as unknown as Record<symbol, unknown>)?.[GUARDED] === true;
      // Known for the session's later streams (its socket never changes): no proxy read each.
      session[OURS] = ours;
    } catch {
      // A session without a socket any more: nothing to guard.
    }
  }
  if (ours === true) stream.on('error', noop);
}
