// Sustained load through the proxy for a while (default 120 s): zero errors, memory flat.
// Run: npx -y pnpm@12.21.0 soak [-- --seconds 120 --sessions 20 --concurrency 64]

import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startFaultServer } from './fault-server.ts';
import { callTool, openClient, outcome, startProxyFor } from './harness.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    seconds: { type: 'string', default: '120' },
    sessions: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '64' },
  },
});
const seconds = Number(values.seconds);
const sessions = Number(values.sessions);
const concurrency = Number(values.concurrency);

const upstream = await startFaultServer();
const { proxy, endpoint } = await startProxyFor(upstream.url, {
  pool: { connectionsPerOrigin: 2 },
});
const clients = await Promise.all(Array.from({ length: sessions }, () => openClient(endpoint)));

const heapMb = () => process.memoryUsage().heapUsed / 1048576;
const samples: Array<{ t: number; heapMb: number; rssMb: number; calls: number }> = [];
let calls = 0;
let errors = 0;
const firstErrors: string[] = [];
const endAt = Date.now() + seconds * 1000;

async function worker(w: number): Promise<void> {
  let n = 0;
  while (Date.now() < endAt) {
    const client = clients[(w + n) % clients.length];
    if (client === undefined) return;
    // Mostly fast calls, with some slow ones so streams overlap.
    const o =
      n % 10 === 0
        ? await outcome(callTool(client.connection, 'slow', { ms: 50 }))
        : await outcome(callTool(client.connection, 'echo', { text: `w${w}n${n}` }));
    const expected = n % 10 === 0 ? 'done' : `w${w}n${n}`;
    if (o.kind !== 'result' || o.text !== expected) {
      errors++;
      if (firstErrors.length < 5) firstErrors.push(JSON.stringify(o));
    }
    calls++;
    n++;
  }
}

const started = Date.now();
const sampler = setInterval(() => {
  gc();
  const s = {
    t: Math.round((Date.now() - started) / 1000),
    heapMb: Number(heapMb().toFixed(1)),
    rssMb: Number((process.memoryUsage().rss / 1048576).toFixed(1)),
    calls,
  };
  samples.push(s);
  process.stdout.write(`${JSON.stringify(s)}\n`);
}, 10_000);
await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
clearInterval(sampler);

await Promise.all(clients.map((c) => c.close()));
await proxy.close();
await upstream.close();

// Flat memory: the last third of the run holds no more than the first third plus 10%.
const third = Math.max(1, Math.floor(samples.length / 3));
const early = Math.max(...samples.slice(0, third).map((s) => s.heapMb));
const late = Math.max(...samples.slice(-third).map((s) => s.heapMb));
const flat = samples.length < 3 || late <= early * 1.1 + 2;
const elapsed = (Date.now() - started) / 1000;
console.log(
  `soak: ${calls} calls in ${elapsed.toFixed(0)} s (${(calls / elapsed).toFixed(0)}/s), ${errors} errors, heap ${early} MB early -> ${late} MB late: ${flat ? 'flat' : 'GROWING'}`,
);
if (firstErrors.length > 0) console.log('first errors:', firstErrors);
process.exit(errors === 0 && flat ? 0 : 1);
