/** Our client: one `Connection` from @mcp/http2 over h2c, driven through the core contract. */
import { createHttp2Connection } from '@mcp/http2';
import { type ClientFactory, INITIALIZE, INITIALIZED, toolCall } from './clients.ts';

export const oursClient: ClientFactory = (url, tool) => connect(url, tool, '2025-11-25');

/** The same client speaking MCP 2026-07-28 (stateless: `_meta` and standard headers per call). */
export const oursModernClient: ClientFactory = (url, tool) => connect(url, tool, '2026-07-28');

async function connect(url: string, tool: string, era: '2025-11-25' | '2026-07-28') {
  const connection = createHttp2Connection({ url, h2c: true, era });
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
    },
    close: () => connection.close(),
  };
}
