// Rough per-call client CPU: raw undici request() over h2c, the connection, and the SDK client
// (fetch over HTTP/1.1). Not a test. Usage: perf-probe.ts [calls] [concurrency] [raw|ours|sdk]
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Pool } from 'undici';
import { createHttp2Connection } from '../src/connection.ts';

const child = spawn(process.execPath, [new URL('./perf-server.ts', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [port, http1Port] = await new Promise<number[]>((resolve) => {
  child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim().split(' ').map(Number)));
});
const origin = `http://127.0.0.1:${port}`;
const N = Number(process.argv[2] ?? 5000);
const C = Number(process.argv[3] ?? 1);

const pool = new Pool(origin, { allowH2: true, useH2c: true } as Pool.Options);
const rawHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-session-id': 's1',
  'mcp-protocol-version': '2025-11-25',
};
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
async function raw(): Promise<void> {
  const r = await pool.request({
    path: '/mcp',
    method: 'POST',
    body,
    headers: rawHeaders,
  });
  await r.body.json();
}
const conn = createHttp2Connection({ url: `${origin}/mcp`, h2c: true, serverStream: false });
await conn.request({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} });
let id = 1;
async function ours(): Promise<void> {
  await conn.request({ jsonrpc: '2.0', id: id++, method: 'ping' });
}
async function run(name: string, fn: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 500; i++) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const per = N / C;
  await Promise.all(
    Array.from({ length: C }, async () => {
      for (let i = 0; i < per; i++) await fn();
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${name}: ${((ms / N) * 1000).toFixed(1)} us/call wall, ${((cpu.user + cpu.system) / N).toFixed(1)} us/call cpu (client process)`,
  );
}
const sdk = new Client({ name: 'probe', version: '1' });
await sdk.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${http1Port}/mcp`)));
async function sdkCall(): Promise<void> {
  await sdk.ping();
}
const only = process.argv[4];
for (let round = 0; round < 2; round++) {
  if (only !== 'ours') await run('raw undici', raw);
  if (only !== 'raw') await run('connection', ours);
  if (only === 'sdk' || only === undefined) await run('SDK client (fetch, HTTP/1.1)', sdkCall);
}
await sdk.close();
await conn.close();
await pool.destroy();
child.kill();
