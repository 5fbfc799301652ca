/**
 * HTTP/2 flow control for the undici pools we create (the connection's own pool here, the
 * origin pools of @mcp/pool). A receiver advertises how many bytes a peer may send before it
 * waits for a WINDOW_UPDATE: per stream (SETTINGS_INITIAL_WINDOW_SIZE) and per connection.
 * With undici's defaults (256 KiB per stream, 512 KiB per connection) sixteen 1 MB tool results
 * in flight on one connection share half a megabyte of window; these defaults let each stream
 * hold a whole 1 MB result and the connection ten of them.
 */

/** Bytes a server may send on one stream before it waits for our WINDOW_UPDATE. */
export const DEFAULT_INITIAL_WINDOW_SIZE = 1024 * 1024;
/** Bytes a server may send on one connection, over all its streams, before it waits. */
export const DEFAULT_CONNECTION_WINDOW_SIZE = 10 * 1024 * 1024;
/** The largest window HTTP/2 allows (2^31 - 1). */
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;

export interface FlowControlOptions {
  /** Per-stream receive window in bytes. Default 1 MiB. */
  initialWindowSize?: number | undefined;
  /** Per-connection receive window in bytes. Default 10 MiB. */
  connectionWindowSize?: number | undefined;
}

/**
 * The `h2Options` fragment that sets both windows on an undici `Pool`/`Client`. undici 8.13.1
 * reads `h2Options.initialWindowSize` (sent in our SETTINGS frame) although its types lack it,
 * and `h2Options.connectionWindowSize` (applied with `setLocalWindowSize` once connected);
 * `h2Options.settings` is typed but ignored.
 */
export function h2FlowControl(options: FlowControlOptions = {}): {
  initialWindowSize: number;
  connectionWindowSize: number;
} {
  return {
    initialWindowSize: options.initialWindowSize ?? DEFAULT_INITIAL_WINDOW_SIZE,
    connectionWindowSize: options.connectionWindowSize ?? DEFAULT_CONNECTION_WINDOW_SIZE,
  };
}
