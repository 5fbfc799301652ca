/** Turns the cells of one run into markdown tables, with ratios against the same run's figures. */
import type { CellResult, Role } from './cell.ts';
import type { TargetCheck } from './targets.ts';

export interface ScaleResult {
  calls: number;
  sessions: number;
  completed: number;
  errors: number;
  firstError?: string | undefined;
  seconds: number;
  upstreamConnections: number;
  proxyPeakRssMb: number;
  /** Peak V8 heap used by the proxy (sampled every 50 ms), MB. */
  proxyPeakHeapMb: number;
  proxyCpuUsPerCall: number;
  clientKind: string;
  missing?: string | undefined;
}

export interface RunReport {
  startedAt: string;
  seconds: number;
  machine: string;
  timing: string;
  cells: CellResult[];
  scale: ScaleResult | undefined;
  targets: TargetCheck[];
  profiles: string[];
}

export function cpu(cell: CellResult | undefined, role: Role): number | undefined {
  return cell?.processes.find((p) => p.role === role)?.cpuUsPerCall;
}

function rss(cell: CellResult, role: Role): number | undefined {
  return cell.processes.find((p) => p.role === role)?.rssMb;
}

function n(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0 || a === 0) return '–';
  return `${(a / b).toFixed(2)}x`;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function find(
  cells: CellResult[],
  scenario: string,
  subject: string,
  upstream: string,
  concurrency: number,
): CellResult | undefined {
  return cells.find(
    (c) =>
      c.scenario === scenario &&
      c.subject === subject &&
      c.upstream === upstream &&
      c.concurrency === concurrency &&
      c.missing === undefined,
  );
}

function missingRow(cell: CellResult, width: number): string[] {
  return [
    cell.subject,
    String(cell.concurrency),
    `missing: ${cell.missing}`,
    ...Array(width - 3).fill(''),
  ];
}

function clientTables(cells: CellResult[]): string {
  const head = [
    'client',
    'in flight',
    'calls/s',
    'p50 ms',
    'p99 ms',
    'client CPU µs/call',
    'upstream CPU µs/call',
    'client RSS MB',
    'upstream TCP conns',
    'errors',
    'client CPU ÷ SDK v1',
    'client CPU ÷ undici floor',
    'calls/s ÷ SDK v1',
  ];
  const sdkV1 = (c: CellResult) => find(cells, 'client', 'sdk-v1', c.upstream, c.concurrency);
  const rows = (scenario: string, baseline = sdkV1) =>
    cells
      .filter((c) => c.scenario === scenario)
      .map((c) => {
        if (c.missing !== undefined) return missingRow(c, head.length);
        const sdk = baseline(c);
        const floor = find(cells, 'floor', 'undici', c.upstream, c.concurrency);
        return [
          c.subject,
          String(c.concurrency),
          n(c.callsPerSec),
          n(c.p50Ms, 2),
          n(c.p99Ms, 2),
          n(cpu(c, 'client')),
          n(cpu(c, 'upstream')),
          n(rss(c, 'client')),
          String(c.upstreamConnections),
          String(c.errors),
          ratio(cpu(c, 'client'), cpu(sdk, 'client')),
          ratio(cpu(c, 'client'), cpu(floor, 'client')),
          ratio(c.callsPerSec, sdk?.callsPerSec),
        ];
      });
  return [
    '## 1. Clients: one session, tools/call echo, fast node:http2 upstream',
    '',
    'SDK clients reach the upstream over HTTP/1.1 (they ride fetch); ours and the floors over h2c.',
    '',
    table(head, rows('client')),
    '',
    '## 2. Floors: the same request bytes with no MCP logic',
    '',
    table(head, rows('floor')),
    '',
    '## 2b. SDK Clients over their own transport and over @mcp/sdk-transport',
    '',
    'The same `Client.callTool`; `sdk-vN` rides the SDK transport (fetch, HTTP/1.1),',
    '`sdk-vN-ours` a `ConnectionTransport` over one `@mcp/http2` connection (h2c). The ÷ SDK v1',
    "columns here divide by the same SDK version's own transport.",
    '',
    table(
      head,
      rows('sdk-transport', (c) =>
        find(
          cells,
          'sdk-transport',
          c.subject.startsWith('sdk-v2') ? 'sdk-v2' : 'sdk-v1',
          c.upstream,
          c.concurrency,
        ),
      ),
    ),
  ].join('\n');
}

function proxyTables(cells: CellResult[]): string {
  const head = [
    'path',
    'in flight',
    'calls/s',
    'calls/s ÷ direct',
    'p50 ms',
    'p99 ms',
    'client CPU µs/call',
    'proxy CPU µs/call',
    'upstream CPU µs/call',
    'proxy CPU ÷ SDK proxy',
    'proxy CPU ÷ raw proxy',
    'proxy RSS MB',
    'upstream TCP conns',
    'proxy TCP conns',
    'errors',
  ];
  const upstreams = [
    ...new Set(cells.filter((c) => c.scenario === 'proxy').map((c) => c.upstream)),
  ];
  return upstreams
    .map((upstream) => {
      const rows = cells
        .filter((c) => c.scenario === 'proxy' && c.upstream === upstream)
        .map((c) => {
          if (c.missing !== undefined) return missingRow(c, head.length);
          const direct = find(cells, 'proxy', 'direct', upstream, c.concurrency);
          const sdkProxy = find(cells, 'proxy', 'via sdk-proxy', upstream, c.concurrency);
          const rawProxy = find(cells, 'proxy', 'via raw proxy', upstream, c.concurrency);
          return [
            c.subject,
            String(c.concurrency),
            n(c.callsPerSec),
            ratio(c.callsPerSec, direct?.callsPerSec),
            n(c.p50Ms, 2),
            n(c.p99Ms, 2),
            n(cpu(c, 'client')),
            n(cpu(c, 'proxy')),
            n(cpu(c, 'upstream')),
            ratio(cpu(c, 'proxy'), cpu(sdkProxy, 'proxy')),
            ratio(cpu(c, 'proxy'), cpu(rawProxy, 'proxy')),
            n(rss(c, 'proxy')),
            String(c.upstreamConnections),
            c.proxyConnections === undefined ? '–' : String(c.proxyConnections),
            String(c.errors),
          ];
        });
      return [`## 3. Proxy: SDK v1 client, upstream \`${upstream}\``, '', table(head, rows)].join(
        '\n',
      );
    })
    .join('\n\n');
}

function erasTable(cells: CellResult[]): string {
  const eraCells = cells.filter((c) => c.scenario === 'eras');
  if (eraCells.length === 0) return '';
  const head = ['era', 'in flight', 'calls/s', 'p50 ms', 'p99 ms', 'client CPU µs/call'];
  head.push('proxy CPU µs/call', 'upstream CPU µs/call', 'proxy CPU ÷ 2025-11-25', 'errors');
  const rows = eraCells.map((c) => {
    if (c.missing !== undefined) return missingRow(c, head.length);
    const legacy = find(cells, 'eras', '2025-11-25', c.upstream, c.concurrency);
    return [
      c.subject,
      String(c.concurrency),
      n(c.callsPerSec),
      n(c.p50Ms, 2),
      n(c.p99Ms, 2),
      n(cpu(c, 'client')),
      n(cpu(c, 'proxy')),
      n(cpu(c, 'upstream')),
      ratio(cpu(c, 'proxy'), cpu(legacy, 'proxy')),
      String(c.errors),
    ];
  });
  const title = '## 3b. Eras: our client through our proxy, 2025-11-25 (session) vs 2026-07-28';
  return `${title}\n\n${table(head, rows)}\n`;
}

function scaleTable(scale: ScaleResult | undefined): string {
  const title = '## 4. Scale: 500 ms tool, all calls in flight at once through our proxy';
  if (scale === undefined) return `${title}\n\nnot run`;
  if (scale.missing !== undefined) return `${title}\n\nmissing: ${scale.missing}`;
  return [
    title,
    '',
    table(
      [
        'calls',
        'sessions',
        'client',
        'completed',
        'errors',
        'time to finish s',
        'upstream TCP conns',
        'proxy peak RSS MB',
        'proxy peak heap MB',
        'proxy CPU µs/call',
      ],
      [
        [
          n(scale.calls),
          String(scale.sessions),
          scale.clientKind,
          n(scale.completed),
          String(scale.errors),
          n(scale.seconds, 2),
          String(scale.upstreamConnections),
          n(scale.proxyPeakRssMb),
          n(scale.proxyPeakHeapMb),
          n(scale.proxyCpuUsPerCall),
        ],
      ],
    ),
    scale.firstError ? `\nFirst error: ${scale.firstError}` : '',
  ].join('\n');
}

function targetsTable(targets: TargetCheck[]): string {
  return [
    '## Targets',
    '',
    table(
      ['target', 'measured', 'limit', 'result'],
      targets.map((t) => [
        t.name,
        t.measured,
        t.limit,
        t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS',
      ]),
    ),
  ].join('\n');
}

export function renderMarkdown(report: RunReport): string {
  const errors = report.cells
    .filter((c) => c.firstError !== undefined && c.errors > 0)
    .map((c) => `- ${c.scenario} ${c.subject} ${c.upstream} @${c.concurrency}: ${c.firstError}`);
  return [
    '# MCP connection bench: latest run',
    '',
    `Run ${report.startedAt}, ${report.seconds.toFixed(0)} s. ${report.machine}. ${report.timing}`,
    '',
    "CPU µs/call is each process's own `process.cpuUsage()` delta over the measured window divided by",
    'the calls completed in it; on this CPU-bound box throughput ≈ cores / (sum of CPU per call).',
    'Ratios compare against figures from this same run. Absolute calls/s move 10-50% between runs.',
    '',
    targetsTable(report.targets),
    '',
    clientTables(report.cells),
    '',
    proxyTables(report.cells),
    '',
    erasTable(report.cells),
    scaleTable(report.scale),
    errors.length > 0 ? `\n## Errors seen\n\n${errors.join('\n')}` : '',
    report.profiles.length > 0 ? `\n## Profiles\n\n${report.profiles.join('\n\n')}` : '',
    '',
  ].join('\n');
}
