import type { Socket } from 'node:net';
import { type buildConnector, Client, type Pool } from 'undici';
import { guardHttp2Streams } from './stream-guard.ts';

export type HttpProtocol = 'h1' | 'h2';

export interface Http2ClientFactoryOptions {
  /** The connector every client connects with. */
  connect: buildConnector.connector;
  /** Cleartext HTTP/2 by prior knowledge (no ALPN). */
  h2c: boolean;
  /** The most streams a connection carries (undici's `h2Options.maxConcurrentStreams`). */
  maxConcurrentStreams: number;
  /** Told the protocol of each connection as it comes up. */
  onProtocol?: (protocol: HttpProtocol) => void;
}

/**
 * A `factory` for an undici Pool that may speak HTTP/2. Each client it makes guards the HTTP/2
 * streams of its sockets (stream-guard.ts) and, once a connection is known to be HTTP/2, gets
 * `pipelining` set to the stream limit: undici 8.13-8.14 sizes a client that has no session by
 * `pipelining` (1 by default), so after a GOAWAY a client whose old session still carries an
 * open stream (a GET stream) never connects again, and a request dispatched to it waits for
 * that stream to end, possibly for good.
 */
export function http2ClientFactory(options: Http2ClientFactoryOptions): Pool.Options['factory'] {
  const { connect, h2c, maxConcurrentStreams, onProtocol } = options;
  return (origin, clientOptions) => {
    const client: Client = new Client(origin, {
      ...clientOptions,
      connect: (opts, callback) =>
        connect(opts, (...args) => {
          const socket = args[1] as (Socket & { alpnProtocol?: string | false }) | null;
          if (socket != null) {
            guardHttp2Streams(socket);
            const protocol = h2c || socket.alpnProtocol === 'h2' ? 'h2' : 'h1';
            // Back to 1 if a later connection of the same client is HTTP/1.1 (no pipelining).
            client.pipelining = protocol === 'h2' ? maxConcurrentStreams : 1;
            onProtocol?.(protocol);
          }
          callback(...args);
        }),
    });
    return client;
  };
}
