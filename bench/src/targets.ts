/** The pass/fail targets, computed from one run's cells. */
import type { CellResult } from './cell.ts';
import { cpu, find, type ScaleResult } from './report.ts';

export interface TargetCheck {
  name: string;
  measured: string;
  limit: string;
  /** undefined when the figures needed are missing. */
  pass: boolean | undefined;
}

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

export function checkTargets(cells: CellResult[], scale: ScaleResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [
    perConcurrency(
      'our client CPU/call ÷ SDK v1 client (per in-flight level)',
      '≤ 0.25x',
      (c) =>
        divide(
          cpu(find(cells, 'client', 'ours', 'fast', c), 'client'),
          cpu(find(cells, 'client', 'sdk-v1', 'fast', c), 'client'),
        ),
      (r) => r <= 0.25,
    ),
    perConcurrency(
      'our client CPU/call ÷ raw undici h2c floor',
      '≤ 1.5x',
      (c) =>
        divide(
          cpu(find(cells, 'client', 'ours', 'fast', c), 'client'),
          cpu(find(cells, 'floor', 'undici', 'fast', c), 'client'),
        ),
      (r) => r <= 1.5,
    ),
  ];
  for (const upstream of ['fast', 'sdk']) {
    checks.push(
      perConcurrency(
        `our proxy CPU/call ÷ SDK-only proxy, upstream ${upstream}`,
        '≤ 0.20x',
        (c) =>
          divide(
            cpu(find(cells, 'proxy', 'via our proxy', upstream, c), 'proxy'),
            cpu(find(cells, 'proxy', 'via sdk-proxy', upstream, c), 'proxy'),
          ),
        (r) => r <= 0.2,
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
