/**
 * Scale-out figures: throughput through nginx with 1, 2 and 3 proxy replicas (processes sharing
 * a sealing key) in front of the fast h2c echo upstream, as ratios to one replica, and the CPU
 * each call costs the replicas and nginx (from /proc, user + system, every thread).
 *
 *   npx -y pnpm@12.21.0 --filter bench bench:replicas [-- --requests 6000 --concurrency 128]
 *
 * On a 2-core box every process (load generator, nginx, replicas, upstream) shares the same two
 * cores, so the ratios say how little a replica costs, not how far replicas scale: the CPU per
 * call is what a host with a core per replica divides.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startNginx } from 'demo-proxy/src/cluster/nginx.ts';
import { newSealingSecret, type Replica, startReplica } from 'demo-proxy/src/cluster/replicas.ts';
import { BenchChild } from './child-process.ts';

const LOAD = new URL('../../apps/demo-proxy/src/load.ts', import.meta.url).pathname;
const RESULTS = path.join(import.meta.dirname, '..', 'results');
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

interface LoadFigures {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

interface Row extends LoadFigures {
  replicas: number;
  replicaCpuUsPerCall: number;
  nginxCpuUsPerCall: number;
}

/** CPU seconds (user + system) of a process and, with `children`, of its direct children. */
function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  if (!children) return own;
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  return own + kids.filter(Boolean).reduce((sum, kid) => sum + cpuSeconds(Number(kid)), 0);
}

/** Runs the demo's load generator (its own process) and reads its summary. */
async function runLoad(url: string, requests: number, concurrency: number): Promise<LoadFigures> {
  const child = spawn(
    process.execPath,
    [
      LOAD,
      '--url',
      url,
      '--sessions',
      '50',
      '--requests',
      String(requests),
      '--concurrency',
      String(concurrency),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`the load generator exited ${code}:\n${out}`);
  const figure = (name: string): number => {
    const match = new RegExp(`^${name}\\s+([\\d.]+)`, 'm').exec(out);
    if (!match) throw new Error(`no "${name}" in the load generator's output:\n${out}`);
    return Number(match[1]);
  };
  return {
    requests: figure('requests'),
    requestsPerSecond: figure('requests/s'),
    p50Ms: figure('p50'),
    p99Ms: figure('p99'),
    errors: figure('errors'),
  };
}

async function measure(
  count: number,
  upstreamUrl: string,
  load: { requests: number; concurrency: number },
): Promise<Row> {
  const keys = [newSealingSecret('bench')];
  const config = {
    sessions: { maxSessionsPerClient: 10_000 },
    limits: { maxConcurrentRequests: 20_000, maxConcurrentRequestsPerSession: 1_000 },
    pool: { connectionsPerOrigin: 2 },
  };
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    replicas.push(await startReplica({ upstreamUrl, keys, config, logLevel: 'info' }));
  }
  const nginx = await startNginx(replicas.map((r) => `127.0.0.1:${r.port}`));
  try {
    const url = `${nginx.url}/example/mcp`;
    await runLoad(url, Math.ceil(load.requests / 5), load.concurrency); // warm-up
    const replicaCpu = () => replicas.reduce((sum, r) => sum + cpuSeconds(r.pid), 0);
    const before = { replicas: replicaCpu(), nginx: cpuSeconds(nginx.pid, true) };
    const figures = await runLoad(url, load.requests, load.concurrency);
    const perCall = (seconds: number) => Math.round((seconds * 1e6) / figures.requests);
    return {
      replicas: count,
      ...figures,
      replicaCpuUsPerCall: perCall(replicaCpu() - before.replicas),
      nginxCpuUsPerCall: perCall(cpuSeconds(nginx.pid, true) - before.nginx),
    };
  } finally {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await nginx.stop();
  }
}

function report(rows: readonly Row[], load: { requests: number; concurrency: number }): string {
  const base = rows[0]?.requestsPerSecond ?? 1;
  const lines = [
    '# Proxy replicas behind nginx',
    '',
    `${load.requests} tools/call echo over 50 sessions, ${load.concurrency} in flight, HTTP/1.1 through nginx (round robin, sealed sessions) to the fast h2c echo upstream; every process on this box's ${availableParallelism()} cores.`,
    '',
    '| replicas | req/s | vs 1 replica | p50 | p99 | errors | replica CPU µs/call (all replicas) | nginx CPU µs/call |',
    '| -------- | ----- | ------------ | --- | --- | ------ | ---------------------------------- | ----------------- |',
    ...rows.map(
      (r) =>
        `| ${r.replicas} | ${r.requestsPerSecond} | ${(r.requestsPerSecond / base).toFixed(2)}x | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.errors} | ${r.replicaCpuUsPerCall} | ${r.nginxCpuUsPerCall} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      requests: { type: 'string', default: '6000' },
      concurrency: { type: 'string', default: '128' },
    },
  });
  const load = { requests: Number(values.requests), concurrency: Number(values.concurrency) };
  const upstream = new BenchChild('upstream-fast.ts', {}, { label: 'upstream-fast' });
  try {
    const { h2 } = await upstream.ready();
    const upstreamUrl = `http://127.0.0.1:${h2}/mcp`;
    const rows: Row[] = [];
    for (const count of [1, 2, 3]) rows.push(await measure(count, upstreamUrl, load));
    const text = report(rows, load);
    process.stdout.write(text);
    await mkdir(RESULTS, { recursive: true });
    await writeFile(path.join(RESULTS, 'replicas.md'), text);
    await writeFile(path.join(RESULTS, 'replicas.json'), JSON.stringify({ load, rows }, null, 2));
  } finally {
    await upstream.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
