/** Our client: one `Connection` from @mcp/http2 over h2c. */
import type { ClientFactory } from './clients.ts';

export const oursClient: ClientFactory = async () => {
  throw new Error('@mcp/http2 has not landed on this branch yet');
};
