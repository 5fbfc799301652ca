// One session per user, all over the origin's shared HTTP/2 connections.
//   node examples/sessions-by-key.ts [url]   (default: the demo, http://127.0.0.1:8080/example/mcp)
import { OriginPool } from '@mcp/pool';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/example/mcp';
await using pool = new OriginPool({
  maxConnectionsPerOrigin: 2, // TCP connections per origin
  h2c: [new URL(url).origin], // cleartext HTTP/2 for this origin; https: negotiates h2 by ALPN
});

const alice = await pool.connection(url, {
  key: 'alice',
  headers: { 'x-user': 'alice' }, // any createHttp2Connection option
});
await alice.request({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'me', version: '1' },
  },
});
await alice.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });

// Same URL and key: the same Connection object, while it is open.
console.log('same connection:', (await pool.connection(url, { key: 'alice' })) === alice);

console.log(pool.stats().origins[0]); // { origin, connected, running, pending, sessions, ... }
// `await using` closes every session (DELETE), then the TCP connections.
