/** The pass/fail targets, computed from one run's cells. */
import type { CellResult, Role } from './cell.ts';
import { cpu, find, type ScaleResult, type TargetCheck } from './report.ts';

export const CONCURRENCY = [1, 16, 256] as const;

function perConcurrency(
  name: string,
  limit: string,
  ratioAt: (concurrency: number) => number | undefined,
  ok: (ratio: number) => boolean,
): TargetCheck {
  const parts: string[] = [];
  let pass: boolean | undefined = true;
  for (const concurrency of CONCURRENCY) {
    const value = ratioAt(concurrency);
    if (value === undefined || !Number.isFinite(value)) {
      parts.push(`${concurrency}: –`);
      pass = undefined;
      continue;
    }
    parts.push(`${concurrency}: ${value.toFixed(3)}x`);
    if (!ok(value) && pass !== undefined) pass = false;
  }
  return { name, measured: parts.join(', '), limit, pass };
}

function divide(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** A cell by scenario, subject and upstream; the check supplies the in-flight level. */
type CellKey = readonly [scenario: string, subject: string, upstream: string];

/** `role`'s CPU per call in `cell` ÷ in `baseline`, at most `max` (`limit` says so) at every level. */
function cpuRatioTarget(
  cells: CellResult[],
  target: { name: string; limit: string; max: number; role: Role },
  cell: CellKey,
  baseline: CellKey,
): TargetCheck {
  const cpuAt = ([scenario, subject, upstream]: CellKey, concurrency: number) =>
    cpu(find(cells, scenario, subject, upstream, concurrency), target.role);
  return perConcurrency(
    target.name,
    target.limit,
    (c) => divide(cpuAt(cell, c), cpuAt(baseline, c)),
    (r) => r <= target.max,
  );
}

export function checkTargets(cells: CellResult[], scale: ScaleResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [
    cpuRatioTarget(
      cells,
      {
        name: 'our client CPU/call ÷ SDK v1 client (per in-flight level)',
        limit: '≤ 0.25x',
        max: 0.25,
        role: 'client',
      },
      ['client', 'ours', 'fast'],
      ['client', 'sdk-v1', 'fast'],
    ),
    cpuRatioTarget(
      cells,
      {
        name: 'our client CPU/call ÷ raw undici h2c floor',
        limit: '≤ 1.5x',
        max: 1.5,
        role: 'client',
      },
      ['client', 'ours', 'fast'],
      ['floor', 'undici', 'fast'],
    ),
  ];
  for (const upstream of ['fast', 'sdk']) {
    checks.push(
      cpuRatioTarget(
        cells,
        {
          name: `our proxy CPU/call ÷ SDK-only proxy, upstream ${upstream}`,
          limit: '≤ 0.20x',
          max: 0.2,
          role: 'proxy',
        },
        ['proxy', 'via our proxy', upstream],
        ['proxy', 'via sdk-proxy', upstream],
      ),
    );
  }
  const ours = find(cells, 'proxy', 'via our proxy', 'sdk', 256);
  const direct = find(cells, 'proxy', 'direct', 'sdk', 256);
  const throughput = divide(ours?.callsPerSec, direct?.callsPerSec);
  checks.push({
    name: 'via our proxy ÷ direct throughput, SDK client + SDK upstream, 256 in flight',
    measured: throughput === undefined ? '–' : `${throughput.toFixed(2)}x`,
    limit: '≥ 0.80x',
    pass: throughput === undefined ? undefined : throughput >= 0.8,
  });
  const scaled = scale !== undefined && scale.missing === undefined ? scale : undefined;
  checks.push(
    {
      name: `scale: ${scale?.calls ?? 10_000} slow calls complete, no errors`,
      measured: scaled ? `${scaled.completed} done, ${scaled.errors} errors` : '–',
      limit: 'all, 0 errors',
      pass: scaled ? scaled.completed === scaled.calls && scaled.errors === 0 : undefined,
    },
    {
      name: 'scale: upstream TCP connections',
      measured: scaled ? String(scaled.upstreamConnections) : '–',
      limit: '≤ 4',
      pass: scaled ? scaled.upstreamConnections <= 4 : undefined,
    },
    {
      name: 'scale: proxy peak RSS',
      measured: scaled ? `${scaled.proxyPeakRssMb.toFixed(0)} MB` : '–',
      limit: '≤ 300 MB',
      pass: scaled ? scaled.proxyPeakRssMb <= 300 : undefined,
    },
  );
  return checks;
}
