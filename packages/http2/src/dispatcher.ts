import diagnosticsChannel from 'node:diagnostics_channel';
import { BoundedMap } from '@mcp/connection-core';
import { buildConnector, type Dispatcher, Pool } from 'undici';
import { type FlowControlOptions, h2FlowControl } from './flow-control.ts';
import { type HttpProtocol, http2ClientFactory } from './http2-clients.ts';
import type { TlsOptions } from './options.ts';

/** Streams one HTTP/2 connection may carry before the pool opens another one. */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 1024;

export type { HttpProtocol };

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

interface OwnDispatcherOptions extends FlowControlOptions {
  origin: string;
  h2c: boolean;
  tls: TlsOptions | undefined;
}

/**
 * A Pool for one origin with HTTP/2 enabled (ALPN over TLS, prior knowledge with h2c). The pool
 * may open several connections when the server speaks only HTTP/1.1; over HTTP/2 one carries
 * up to DEFAULT_MAX_STREAMS_PER_CONNECTION concurrent streams, with the receive windows of
 * flow-control.ts.
 */
export function createOwnDispatcher(options: OwnDispatcherOptions): DispatcherHandle {
  let protocol: HttpProtocol | undefined = options.h2c ? 'h2' : undefined;
  // `useH2c` is read by the connector but missing from its type.
  const connector = buildConnector({
    ...options.tls,
    allowH2: true,
    useH2c: options.h2c,
  } as unknown as buildConnector.BuildOptions);
  const pool = new Pool(options.origin, {
    allowH2: true,
    useH2c: options.h2c,
    h2Options: {
      maxConcurrentStreams: DEFAULT_MAX_STREAMS_PER_CONNECTION,
      ...h2FlowControl(options),
    },
    factory: http2ClientFactory({
      connect: connector,
      h2c: options.h2c,
      maxConcurrentStreams: DEFAULT_MAX_STREAMS_PER_CONNECTION,
      // The negotiated protocol of each connection the pool opens.
      onProtocol: (negotiated) => {
        protocol = negotiated;
      },
    }),
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

/** Origins remembered at most; the oldest is forgotten first. */
const MAX_KNOWN_ORIGINS = 4096;
/** The protocol of the latest connection undici made to each origin (`https:` + host). */
const protocolByOrigin = new BoundedMap<string, HttpProtocol>(MAX_KNOWN_ORIGINS);
let watching = false;

/**
 * One listener for the whole process, not one per Connection: a pool with 10,000 sessions on
 * one dispatcher would otherwise call 10,000 listeners on every connect.
 */
function watchConnections(): void {
  if (watching) return;
  watching = true;
  diagnosticsChannel.subscribe('undici:client:connected', (message) => {
    const { connectParams } = message as ConnectedMessage;
    const key = `${connectParams.protocol}//${connectParams.host}`;
    protocolByOrigin.set(key, connectParams.version === 'h2' ? 'h2' : 'h1');
  });
}

/**
 * Wraps a dispatcher the caller owns. Its protocol is that of the latest connection undici
 * made to this origin (from its `client:connected` diagnostics), so a Connection made on a
 * dispatcher whose TCP connection is already up knows it too. It is not closed by us.
 */
export function wrapDispatcher(dispatcher: Dispatcher, url: URL): DispatcherHandle {
  watchConnections();
  const key = `${url.protocol}//${url.host}`;
  return {
    dispatcher,
    get protocol() {
      return protocolByOrigin.get(key);
    },
    async close() {},
  };
}
