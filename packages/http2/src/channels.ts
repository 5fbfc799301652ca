import diagnosticsChannel from 'node:diagnostics_channel';
import type { ServerStreamEnd } from './server-stream.ts';

/** Channels on which a connection publishes what no request or `receive()` can report. */
export const http2Channels = {
  /**
   * A session's GET stream ended for good: `not-offered` (405), `session-expired` (404),
   * `gave-up` (`reconnection.maxAttempts` failures in a row), or `stopped` (closed by us).
   * Until a new one opens, `receive()` gets no server-initiated messages.
   */
  serverStreamEnd: diagnosticsChannel.channel('mcp:http2:server-stream:end'),
} as const;

export interface ServerStreamEndMessage {
  target: string;
  sessionId: string | undefined;
  end: ServerStreamEnd;
}
