// Parses a few JSON-RPC messages (good and bad), records metrics, and prints what it saw.
// Run: npx -y pnpm@12.21.0 --filter @mcp/connection-core example
import {
  ConnectionMetrics,
  InvalidMessageError,
  isJsonRpcRequest,
  parseMessage,
} from '@mcp/connection-core';

const inputs = [
  '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  '{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}',
  '{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}',
  '{"jsonrpc":"2.0","id":2,"result":{},"error":{"code":1,"message":"x"}}',
  'not json',
];

const metrics = new ConnectionMetrics('example');
for (const input of inputs) {
  try {
    const message = parseMessage(input);
    if (isJsonRpcRequest(message)) {
      const startedAt = metrics.requestStarted(message.method);
      metrics.requestSucceeded(message.method, startedAt);
    }
    console.log('ok     ', JSON.stringify(message));
  } catch (err) {
    if (!(err instanceof InvalidMessageError)) throw err;
    console.log(`${err.code} (${err.issue}): ${err.message}`);
  }
}
const { requests, latencyMs } = metrics.snapshot();
console.log('metrics', { ...requests, p99Ms: Number(latencyMs.p99.toFixed(3)) });
