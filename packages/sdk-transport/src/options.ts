import { type HttpStatusError, parseOptions } from '@mcp/connection-core';
import { z } from 'zod';

/**
 * Called when the server refuses a message with 401 (no or expired credentials) or 403 (e.g.
 * `insufficient_scope`): get new credentials (the connection's `headers` function sends them),
 * then the message is sent once more. `error.headers['www-authenticate']` says what the server
 * wants. What it throws is what the send fails with.
 */
export type UnauthorizedHandler = (error: HttpStatusError) => Promise<void>;

export interface ConnectionTransportOptions {
  /** Re-authorizes after a 401 or 403; without it those fail the message (HttpStatusError). */
  onUnauthorized?: UnauthorizedHandler;
}

const ConnectionTransportOptionsSchema = z.strictObject({
  onUnauthorized: z
    .custom<UnauthorizedHandler>((value) => typeof value === 'function', 'expected a function')
    .optional(),
});

export function parseConnectionTransportOptions(input: unknown): ConnectionTransportOptions {
  return parseOptions(ConnectionTransportOptionsSchema, input, 'ConnectionTransport options');
}
