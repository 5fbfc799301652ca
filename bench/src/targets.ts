/** The pass/fail targets, computed from one run's cells. */
import type { CellResult, Role } from './cell.ts';
import type { PhaseResult } from './phases.ts';
import {
  cpu,
  find,
  phaseRatio,
  type ScaleResult,
  scalePerCallKb,
  type TargetCheck,
} from './report.ts';

export const CONCURRENCY = [1, 16, 256] as const;

/** The in-flight levels the proxy and floor targets name. */
const PROXY_LEVELS = [16, 256] as const;

function perConcurrency(
  check: { name: string; limit: string; levels?: readonly number[] },
  ratioAt: (concurrency: number) => number | undefined,
  ok: (ratio: number) => boolean,
): TargetCheck {
  const parts: string[] = [];
  let pass: boolean | undefined = true;
  for (const concurrency of check.levels ?? CONCURRENCY) {
    const value = ratioAt(concurrency);
    if (value === undefined || !Number.isFinite(value)) {
      parts.push(`${concurrency}: –`);
      pass = undefined;
      continue;
    }
    parts.push(`${concurrency}: ${value.toFixed(3)}x`);
    if (!ok(value) && pass !== undefined) pass = false;
  }
  return { name: check.name, measured: parts.join(', '), limit: check.limit, pass };
}

function divide(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** A cell by scenario, subject and upstream; the check supplies the in-flight level. */
type CellKey = readonly [scenario: string, subject: string, upstream: string];

/** `role`'s CPU per call in `cell` ÷ in `baseline`, at most `max` at every level checked. */
function cpuRatioTarget(
  cells: CellResult[],
  target: { name: string; max: number; role: Role; levels?: readonly number[] },
  cell: CellKey,
  baseline: CellKey,
): TargetCheck {
  const cpuAt = ([scenario, subject, upstream]: CellKey, concurrency: number) =>
    cpu(find(cells, scenario, subject, upstream, concurrency), target.role);
  return perConcurrency(
    { ...target, limit: `≤ ${target.max.toFixed(2)}x` },
    (c) => divide(cpuAt(cell, c), cpuAt(baseline, c)),
    (r) => r <= target.max,
  );
}

/** Calls/s of `cell` ÷ `baseline` at 256 in flight, at least `min`. */
function throughputTarget(
  cells: CellResult[],
  name: string,
  min: number,
  cell: CellKey,
  baseline: CellKey,
): TargetCheck {
  const rate = ([scenario, subject, upstream]: CellKey) =>
    find(cells, scenario, subject, upstream, 256)?.callsPerSec;
  const value = divide(rate(cell), rate(baseline));
  return {
    name,
    measured: value === undefined ? '–' : `${value.toFixed(2)}x`,
    limit: `≥ ${min.toFixed(2)}x`,
    pass: value === undefined ? undefined : value >= min,
  };
}

function clientTargets(cells: CellResult[], phases: PhaseResult[]): TargetCheck[] {
  return [
    cpuRatioTarget(
      cells,
      { name: 'our client CPU/call ÷ SDK v1, best windows', max: 0.25, role: 'client' },
      ['client', 'ours', 'fast'],
      ['client', 'sdk-v1', 'fast'],
    ),
    perConcurrency(
      { name: 'our client CPU/call ÷ SDK v1, whole phases', limit: '≤ 0.25x' },
      (c) => {
        const ours = phases.find((p) => p.client === 'ours' && p.concurrency === c);
        return ours === undefined ? undefined : phaseRatio(phases, ours, 'sdk-v1');
      },
      (r) => r <= 0.25,
    ),
    cpuRatioTarget(
      cells,
      {
        name: 'our client CPU/call ÷ raw undici h2c floor',
        max: 1.3,
        role: 'client',
        levels: [256],
      },
      ['client', 'ours', 'fast'],
      ['floor', 'undici', 'fast'],
    ),
  ];
}

function proxyTargets(cells: CellResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const upstream of ['fast', 'sdk']) {
    const ours: CellKey = ['proxy', 'via our proxy', upstream];
    checks.push(
      cpuRatioTarget(
        cells,
        {
          name: `our proxy CPU/call ÷ SDK-only proxy, upstream ${upstream}`,
          max: 0.2,
          role: 'proxy',
          levels: PROXY_LEVELS,
        },
        ours,
        ['proxy', 'via sdk-proxy', upstream],
      ),
      cpuRatioTarget(
        cells,
        {
          name: `our proxy CPU/call ÷ raw two-hop floor, upstream ${upstream}`,
          max: 1.3,
          role: 'proxy',
          levels: PROXY_LEVELS,
        },
        ours,
        ['proxy', 'via raw proxy', upstream],
      ),
    );
  }
  checks.push(
    throughputTarget(
      cells,
      'calls/s via our proxy ÷ direct, SDK HTTP/1.1 upstream, 256 in flight',
      0.85,
      ['proxy', 'via our proxy', 'sdk'],
      ['proxy', 'direct', 'sdk'],
    ),
    throughputTarget(
      cells,
      'calls/s via our proxy ÷ raw two-hop floor, h2c upstream, 256 in flight',
      0.95,
      ['proxy', 'via our proxy', 'fast'],
      ['proxy', 'via raw proxy', 'fast'],
    ),
  );
  return checks;
}

function scaleTargets(scale: ScaleResult | undefined): TargetCheck[] {
  const scaled = scale !== undefined && scale.missing === undefined ? scale : undefined;
  return [
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
      limit: '≤ 250 MB',
      pass: scaled ? scaled.proxyPeakRssMb <= 250 : undefined,
    },
    {
      name: 'scale: proxy RSS growth per call in flight',
      measured: scaled ? `${scalePerCallKb(scaled).toFixed(1)} KB` : '–',
      limit: '≤ 15 KB',
      pass: scaled ? scalePerCallKb(scaled) <= 15 : undefined,
    },
  ];
}

export function checkTargets(
  cells: CellResult[],
  scale: ScaleResult | undefined,
  phases: PhaseResult[] = [],
): TargetCheck[] {
  return [...clientTargets(cells, phases), ...proxyTargets(cells), ...scaleTargets(scale)];
}
