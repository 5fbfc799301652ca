/**
 * The h2load floor (nghttp2's C load generator), when it is installed: same request bytes, same
 * upstream. Its CPU comes from bash's `times` (children's user + system), its latency
 * percentiles from its per-request log.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type CellResult, figures, missingCell } from './cell.ts';
import type { BenchChild } from './child-process.ts';
import { INITIALIZE, toolCall } from './clients.ts';

const run = promisify(execFile);

export function h2loadAvailable(): boolean {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function openSession(url: URL): Promise<string> {
  const session = http2.connect(url.origin);
  try {
    return await new Promise<string>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': url.pathname,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      });
      stream.on('response', (headers) => resolve(String(headers['mcp-session-id'] ?? '')));
      stream.on('error', reject);
      stream.resume();
      stream.end(JSON.stringify(INITIALIZE));
    });
  } finally {
    session.close();
  }
}

function parseCpuUs(timesOutput: string): number {
  // `times` prints the shell's times, then its children's: "0m1.234s 0m0.567s".
  const lines = timesOutput.trim().split('\n');
  const children = lines.at(-1) ?? '';
  let total = 0;
  for (const match of children.matchAll(/(\d+)m([\d.]+)s/g)) {
    total += (Number(match[1]) * 60 + Number(match[2])) * 1e6;
  }
  return total;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

export async function runH2load(options: {
  url: string;
  concurrency: number;
  requests: number;
  upstream: BenchChild;
  upstreamName: string;
}): Promise<CellResult> {
  const spec = {
    scenario: 'floor',
    subject: 'h2load',
    upstreamName: options.upstreamName,
    concurrency: options.concurrency,
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-h2load-'));
  try {
    const url = new URL(options.url);
    const sessionId = await openSession(url);
    const bodyFile = path.join(dir, 'body.json');
    const logFile = path.join(dir, 'log.tsv');
    await writeFile(bodyFile, JSON.stringify(toolCall(1, 'echo')));
    const command = [
      'h2load',
      `-n ${options.requests}`,
      '-c 1',
      `-m ${options.concurrency}`,
      `-d ${bodyFile}`,
      "-H 'content-type: application/json'",
      "-H 'accept: application/json, text/event-stream'",
      `-H 'mcp-session-id: ${sessionId}'`,
      "-H 'mcp-protocol-version: 2025-11-25'",
      `--log-file=${logFile}`,
      options.url,
    ].join(' ');
    const before = await options.upstream.stats();
    const { stdout } = await run('bash', ['-c', `${command} >${dir}/out.txt; times`], {
      timeout: 60_000,
    });
    const after = await options.upstream.stats();
    const out = await readFile(path.join(dir, 'out.txt'), 'utf8');
    const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(out);
    const status = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(
      out,
    );
    const succeeded = Number(status?.[1] ?? 0);
    const failed = Number(status?.[2] ?? 0);
    const seconds = Number(finished?.[1] ?? 0) / (finished?.[2] === 'ms' ? 1000 : 1);
    // Log lines: start time (µs since start), status, latency (µs).
    const latencies = (await readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => Number(line.split('\t')[2]) / 1000)
      .filter((ms) => Number.isFinite(ms))
      .sort((a, b) => a - b);
    const cpuUs = parseCpuUs(stdout);
    return {
      ...spec,
      subject: 'h2load',
      upstream: options.upstreamName,
      calls: succeeded,
      callsPerSec: Number(finished?.[3] ?? 0),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      errors: failed,
      durationMs: seconds * 1000,
      processes: [
        {
          role: 'client',
          cpuUsPerCall: succeeded > 0 ? cpuUs / succeeded : 0,
          rssMb: 0,
          peakRssMb: 0,
        },
        figures('upstream', before, after, succeeded),
      ],
      upstreamConnections: after.accepted - before.accepted,
    };
  } catch (error) {
    return missingCell(spec, error instanceof Error ? error.message : String(error));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
