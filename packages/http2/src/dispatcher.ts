import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { buildConnector, type Dispatcher, Pool } from 'undici';
import type { TlsOptions } from './options.ts';

/** Streams one HTTP/2 connection may carry before the pool opens another one. */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 1024;

export type HttpProtocol = 'h1' | 'h2';

/**
 * The dispatcher a connection sends through, and what it learned about the wire protocol.
 * `protocol` is undefined until the first connection is up.
 */
export interface DispatcherHandle {
  readonly dispatcher: Dispatcher;
  readonly protocol: HttpProtocol | undefined;
  /** Releases what this handle created (the pool it made, the listener it added). */
  close(): Promise<void>;
}

interface OwnDispatcherOptions {
  origin: string;
  h2c: boolean;
  tls: TlsOptions | undefined;
}

/**
 * A Pool for one origin with HTTP/2 enabled (ALPN over TLS, prior knowledge with h2c). The pool
 * may open several connections when the server speaks only HTTP/1.1; over HTTP/2 one carries
 * up to DEFAULT_MAX_STREAMS_PER_CONNECTION concurrent streams.
 */
export function createOwnDispatcher(options: OwnDispatcherOptions): DispatcherHandle {
  let protocol: HttpProtocol | undefined = options.h2c ? 'h2' : undefined;
  // `useH2c` is read by the connector but missing from its type.
  const connector = buildConnector({
    ...options.tls,
    allowH2: true,
    useH2c: options.h2c,
  } as unknown as buildConnector.BuildOptions);
  // Watch the negotiated ALPN protocol of each connection the pool opens.
  const connect: buildConnector.connector = (opts, callback) =>
    connector(opts, (...args) => {
      const socket = args[1] as (Socket & { alpnProtocol?: string }) | null | undefined;
      if (socket != null) protocol = socket.alpnProtocol === 'h2' ? 'h2' : 'h1';
      callback(...args);
    });
  const pool = new Pool(options.origin, {
    connect,
    allowH2: true,
    useH2c: options.h2c,
    h2Options: { maxConcurrentStreams: DEFAULT_MAX_STREAMS_PER_CONNECTION },
  } as Pool.Options);
  return {
    dispatcher: pool,
    get protocol() {
      return protocol;
    },
    async close() {
      await pool.destroy();
    },
  };
}

interface ConnectedMessage {
  connectParams: { host: string; protocol: string; version?: string };
}

/**
 * Wraps a dispatcher the caller owns. Its protocol is read from undici's `client:connected`
 * diagnostics for this origin; it is not closed by us.
 */
export function wrapDispatcher(dispatcher: Dispatcher, url: URL): DispatcherHandle {
  let protocol: HttpProtocol | undefined;
  const channel = diagnosticsChannel.channel('undici:client:connected');
  const onConnected = (message: unknown): void => {
    const { connectParams } = message as ConnectedMessage;
    if (connectParams.host === url.host && connectParams.protocol === url.protocol) {
      protocol = connectParams.version === 'h2' ? 'h2' : 'h1';
    }
  };
  channel.subscribe(onConnected);
  return {
    dispatcher,
    get protocol() {
      return protocol;
    },
    async close() {
      channel.unsubscribe(onConnected);
    },
  };
}
