/** Our client: one `Connection` from @mcp/http2 over h2c, driven through the core contract. */
import { createHttp2Connection } from '@mcp/http2';
import { type ClientFactory, INITIALIZE, INITIALIZED, toolCall } from './clients.ts';

export const oursClient: ClientFactory = async (url, tool) => {
  const connection = createHttp2Connection({ url, h2c: true });
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
};
