import {
  type Connection,
  HttpStatusError,
  type JsonRpcRequest,
  JsonRpcRequestSchema,
  type JsonRpcResponse,
  parseOptions,
} from '@mcp/connection-core';
import { createSseConnection, type SseConnectionOptions } from '@mcp/sse';
import { z } from 'zod';
import { createHttp2Connection } from './connection.ts';
import type { Http2ConnectionOptions, ResolvedHttp2ConnectionOptions } from './options.ts';

/** Statuses with which a server from before Streamable HTTP refuses the initialize POST. */
export const LEGACY_FALLBACK_STATUSES: readonly number[] = [400, 404, 405];

export interface FallbackOptions extends Http2ConnectionOptions {
  /** The `initialize` request to try: it decides the transport, and its answer is returned. */
  initialize: JsonRpcRequest;
  /**
   * Options of the legacy (2024-11-05 HTTP+SSE) connection, beyond the `url`, `dispatcher`,
   * `tls`, `h2c`, `headers` and `requestTimeoutMs` taken from the options above. A `headers`
   * function is called once, when the legacy stream opens: that transport sends the same
   * headers with every request.
   */
  legacy?: Omit<SseConnectionOptions, 'url' | 'dispatcher' | 'headers' | 'tls' | 'h2c'>;
}

/** The legacy leg's options: the caller's `legacy` ones, and what the two transports share. */
async function legacyOptionsOf(
  legacy: FallbackOptions['legacy'],
  shared: ResolvedHttp2ConnectionOptions,
): Promise<SseConnectionOptions> {
  const options: SseConnectionOptions = { ...legacy, url: shared.url, h2c: shared.h2c };
  if (shared.dispatcher !== undefined) options.dispatcher = shared.dispatcher;
  else if (shared.tls !== undefined) options.tls = shared.tls;
  const headers = shared.headers;
  if (headers !== undefined) {
    options.headers =
      typeof headers === 'function'
        ? await headers({ method: 'GET', rpcMethod: undefined })
        : headers;
  }
  options.requestTimeoutMs ??= shared.requestTimeoutMs;
  return options;
}

export interface FallbackResult {
  /** Which transport the server speaks. */
  transport: 'streamable-http' | 'legacy-sse';
  connection: Connection;
  /** The server's answer to `initialize` (send `notifications/initialized` next). */
  initializeResponse: JsonRpcResponse;
}

const FallbackExtrasSchema = z.object({
  initialize: JsonRpcRequestSchema.refine((r) => r.method === 'initialize', {
    message: 'must be an initialize request',
  }),
  legacy: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Connects the way the spec's backwards-compatibility section says: POST `initialize` to the
 * URL as Streamable HTTP; when the server answers 400, 404 or 405, open the URL as a legacy
 * HTTP+SSE stream instead and initialize there. Other failures are thrown as they are.
 */
export async function connectWithFallback(options: FallbackOptions): Promise<FallbackResult> {
  const { initialize, legacy, ...streamable } = options;
  parseOptions(FallbackExtrasSchema, { initialize, legacy }, 'fallback options');
  const connection = createHttp2Connection(streamable);
  try {
    const initializeResponse = await connection.request(initialize);
    return { transport: 'streamable-http', connection, initializeResponse };
  } catch (error) {
    await connection.close();
    if (!(error instanceof HttpStatusError) || !LEGACY_FALLBACK_STATUSES.includes(error.status)) {
      throw error;
    }
  }
  const legacyConnection = await createSseConnection(
    await legacyOptionsOf(legacy, connection.options),
  );
  try {
    const initializeResponse = await legacyConnection.request(initialize);
    return { transport: 'legacy-sse', connection: legacyConnection, initializeResponse };
  } catch (error) {
    await legacyConnection.close();
    throw error;
  }
}
