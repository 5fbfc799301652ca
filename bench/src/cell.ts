/**
 * One measured cell: a load generator process against a set of server processes, with CPU per
 * call attributed to every process from its own `process.cpuUsage()` deltas.
 */
import type { BenchChild } from './child-process.ts';
import type { ClientKind } from './clients.ts';
import type { ProcessStats } from './ipc.ts';

export type Role = 'client' | 'proxy' | 'upstream';

export interface ProcessFigures {
  role: Role;
  /** CPU µs per completed call in the measured window. */
  cpuUsPerCall: number;
  rssMb: number;
  peakRssMb: number;
}

export interface CellResult {
  scenario: string;
  /** What is being measured, e.g. `ours`, `sdk-v1`, `via sdk-proxy`. */
  subject: string;
  upstream: string;
  concurrency: number;
  calls: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string | undefined;
  durationMs: number;
  processes: ProcessFigures[];
  /** TCP connections the upstream accepted during the cell (setup included). */
  upstreamConnections: number;
  /** TCP connections the proxy accepted during the cell, when there is a proxy. */
  proxyConnections?: number | undefined;
  /** Set when the cell could not run: why. */
  missing?: string | undefined;
}

export interface Timing {
  warmupMs: number;
  durationMs: number;
}

export interface CellSpec {
  scenario: string;
  subject: string;
  upstreamName: string;
  client: ClientKind;
  url: string;
  concurrency: number;
  upstream: BenchChild;
  proxy?: BenchChild | undefined;
  timing: Timing;
  profileDir?: string | undefined;
  spawnLoad: (args: Record<string, string | number>, label: string) => BenchChild;
}

const MB = 1024 * 1024;

export function figures(
  role: Role,
  before: ProcessStats,
  after: ProcessStats,
  calls: number,
): ProcessFigures {
  return {
    role,
    cpuUsPerCall: calls > 0 ? (after.cpuUs - before.cpuUs) / calls : 0,
    rssMb: after.rss / MB,
    peakRssMb: after.maxRss / MB,
  };
}

export function missingCell(
  spec: Omit<CellSpec, 'upstream' | 'spawnLoad' | 'timing' | 'url' | 'client'>,
  why: string,
): CellResult {
  return {
    scenario: spec.scenario,
    subject: spec.subject,
    upstream: spec.upstreamName,
    concurrency: spec.concurrency,
    calls: 0,
    callsPerSec: 0,
    p50Ms: 0,
    p99Ms: 0,
    errors: 0,
    durationMs: 0,
    processes: [],
    upstreamConnections: 0,
    missing: why,
  };
}

export async function runCell(spec: CellSpec): Promise<CellResult> {
  const servers: Array<[Role, BenchChild]> = [['upstream', spec.upstream]];
  if (spec.proxy) servers.push(['proxy', spec.proxy]);
  const initial = await Promise.all(servers.map(([, child]) => child.stats()));
  const label =
    `${spec.scenario}-${spec.subject}-${spec.upstreamName}-${spec.concurrency}`.replaceAll(
      /[^a-z0-9-]+/gi,
      '_',
    );
  const load = spec.spawnLoad(
    {
      client: spec.client,
      url: spec.url,
      concurrency: spec.concurrency,
      warmupMs: spec.timing.warmupMs,
      durationMs: spec.timing.durationMs,
    },
    label,
  );
  try {
    await load.next('warm', spec.timing.warmupMs * 4 + 60_000);
    const before = await Promise.all(servers.map(([, child]) => child.stats('start')));
    load.go();
    const result = await load.result(spec.timing.durationMs * 3 + 60_000);
    const after = await Promise.all(servers.map(([, child]) => child.stats('end')));
    const processes: ProcessFigures[] = [
      {
        role: 'client',
        cpuUsPerCall: result.calls > 0 ? result.cpuUs / result.calls : 0,
        rssMb: result.rss / MB,
        peakRssMb: result.maxRss / MB,
      },
    ];
    servers.forEach(([role], i) => {
      const b = before[i];
      const a = after[i];
      if (b && a) processes.push(figures(role, b, a, result.calls));
    });
    const accepted = (i: number): number => (after[i]?.accepted ?? 0) - (initial[i]?.accepted ?? 0);
    return {
      scenario: spec.scenario,
      subject: spec.subject,
      upstream: spec.upstreamName,
      concurrency: spec.concurrency,
      calls: result.calls,
      callsPerSec: (result.calls / result.durationMs) * 1000,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      errors: result.errors,
      firstError: result.firstError,
      durationMs: result.durationMs,
      processes,
      upstreamConnections: accepted(0),
      proxyConnections: spec.proxy ? accepted(1) : undefined,
    };
  } catch (error) {
    return missingCell(spec, error instanceof Error ? error.message : String(error));
  } finally {
    await load.stop();
  }
}
