/** Our client: one `Connection` from @mcp/http2 over h2c, driven through the core contract. */
import { createHttp2Connection, type Http2ConnectionOptions } from '@mcp/http2';
import { type ClientFactory, checkAnswer, INITIALIZE, INITIALIZED, toolCall } from './clients.ts';

/** undici 8.13.1's own HTTP/2 receive windows, which our defaults replace. */
export const UNDICI_WINDOWS = { initialWindowSize: 262_144, connectionWindowSize: 524_288 };

function ours(options: Partial<Http2ConnectionOptions>): ClientFactory {
  return async (url, tool) => {
    const connection = createHttp2Connection({ url, h2c: true, ...options });
    const init = await connection.request({ ...INITIALIZE, params: { ...INITIALIZE.params } });
    if ('error' in init) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`);
    await connection.notify({ ...INITIALIZED });
    let id = 1;
    return {
      call: async () => {
        id += 1;
        const response = await connection.request(toolCall(id, tool));
        if ('error' in response)
          throw new Error(`tools/call failed: ${JSON.stringify(response.error)}`);
        checkAnswer(tool, response.result);
      },
      close: () => connection.close(),
    };
  };
}

export const oursClient = ours({ era: '2025-11-25' });
/** The same client speaking MCP 2026-07-28 (stateless: `_meta` and standard headers per call). */
export const oursModernClient = ours({ era: '2026-07-28' });
/** The same client with undici's default windows: what HTTP/2 flow control was before. */
export const oursUndiciWindows = ours({ era: '2025-11-25', ...UNDICI_WINDOWS });
