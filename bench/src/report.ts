/** Turns the cells of one run into markdown tables, with ratios against the same run's figures. */
import type { CellResult, Role } from './cell.ts';
import type { PhaseResult } from './phases.ts';

export interface ScaleResult {
  calls: number;
  sessions: number;
  completed: number;
  errors: number;
  firstError?: string | undefined;
  seconds: number;
  upstreamConnections: number;
  proxyPeakRssMb: number;
  /** The proxy's RSS with its sessions open, just before the calls, MB. */
  proxyRssBeforeMb: number;
  /** Peak V8 heap used by the proxy (sampled every 50 ms), MB. */
  proxyPeakHeapMb: number;
  proxyCpuUsPerCall: number;
  clientKind: string;
  missing?: string | undefined;
}

/** One pass/fail target of a run (targets.ts computes them). */
export interface TargetCheck {
  name: string;
  measured: string;
  limit: string;
  /** undefined when the figures needed are missing. */
  pass: boolean | undefined;
}

export interface RunReport {
  startedAt: string;
  seconds: number;
  machine: string;
  timing: string;
  cells: CellResult[];
  scale: ScaleResult | undefined;
  phases: PhaseResult[];
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

/** A column of a cell table: its heading, and what it shows for a cell that ran. */
interface Column {
  head: string;
  of(cell: CellResult): string;
}

/** The cell another is compared with (same upstream and concurrency), if it ran. */
type Baseline = (cell: CellResult) => CellResult | undefined;

/** One row a cell; a cell that could not run says why. */
function cellTable(columns: Column[], cells: CellResult[]): string {
  return table(
    columns.map((c) => c.head),
    cells.map((cell) =>
      cell.missing === undefined
        ? columns.map((c) => c.of(cell))
        : missingRow(cell, columns.length),
    ),
  );
}

const column = (head: string, of: (cell: CellResult) => string): Column => ({ head, of });
const subject = (head: string) => column(head, (c) => c.subject);
const inFlight = column('in flight', (c) => String(c.concurrency));
const callsPerSec = (head = 'calls/s') => column(head, (c) => n(c.callsPerSec));
const p50 = column('p50 ms', (c) => n(c.p50Ms, 2));
const p99 = column('p99 ms', (c) => n(c.p99Ms, 2));
const cpuOf = (role: Role) => column(`${role} CPU µs/call`, (c) => n(cpu(c, role)));
const rssOf = (role: Role) => column(`${role} RSS MB`, (c) => n(rss(c, role)));
const upstreamConns = column('upstream TCP conns', (c) => String(c.upstreamConnections));
const errorCount = column('errors', (c) => String(c.errors));
const cpuRatio = (head: string, role: Role, baseline: Baseline) =>
  column(head, (c) => ratio(cpu(c, role), cpu(baseline(c), role)));
const rateRatio = (head: string, baseline: Baseline) =>
  column(head, (c) => ratio(c.callsPerSec, baseline(c)?.callsPerSec));

/** The cell of `scenario` whose subject is `subjectOf(cell)`, beside `cell`. */
function baseline(
  cells: CellResult[],
  scenario: string,
  subjectOf: string | ((cell: CellResult) => string),
): Baseline {
  return (c) =>
    find(
      cells,
      scenario,
      typeof subjectOf === 'string' ? subjectOf : subjectOf(c),
      c.upstream,
      c.concurrency,
    );
}

function clientTables(cells: CellResult[]): string {
  const floor = baseline(cells, 'floor', 'undici');
  const rows = (scenario: string, sdk = baseline(cells, 'client', 'sdk-v1')) =>
    cellTable(
      [
        subject('client'),
        inFlight,
        callsPerSec(),
        p50,
        p99,
        cpuOf('client'),
        cpuOf('upstream'),
        rssOf('client'),
        upstreamConns,
        errorCount,
        cpuRatio('client CPU ÷ SDK v1', 'client', sdk),
        cpuRatio('client CPU ÷ undici floor', 'client', floor),
        rateRatio('calls/s ÷ SDK v1', sdk),
      ],
      cells.filter((c) => c.scenario === scenario),
    );
  const ownTransport = baseline(cells, 'sdk-transport', (c) =>
    c.subject.startsWith('sdk-v2') ? 'sdk-v2' : 'sdk-v1',
  );
  return [
    '## 1. Clients: one session, tools/call echo, fast node:http2 upstream',
    '',
    'SDK clients reach the upstream over HTTP/1.1 (they ride fetch); ours and the floors over h2c.',
    '',
    rows('client'),
    '',
    '## 2. Floors: the same request bytes with no MCP logic',
    '',
    rows('floor'),
    '',
    '## 2b. SDK Clients over their own transport and over @mcp/sdk-transport',
    '',
    'The same `Client.callTool`; `sdk-vN` rides the SDK transport (fetch, HTTP/1.1),',
    '`sdk-vN-ours` a `ConnectionTransport` over one `@mcp/http2` connection (h2c). The ÷ SDK v1',
    "columns here divide by the same SDK version's own transport.",
    '',
    rows('sdk-transport', ownTransport),
  ].join('\n');
}

function proxyTables(cells: CellResult[]): string {
  const columns = [
    subject('path'),
    inFlight,
    callsPerSec(),
    rateRatio('calls/s ÷ direct', baseline(cells, 'proxy', 'direct')),
    p50,
    p99,
    cpuOf('client'),
    cpuOf('proxy'),
    cpuOf('upstream'),
    cpuRatio('proxy CPU ÷ SDK proxy', 'proxy', baseline(cells, 'proxy', 'via sdk-proxy')),
    cpuRatio('proxy CPU ÷ raw proxy', 'proxy', baseline(cells, 'proxy', 'via raw proxy')),
    rssOf('proxy'),
    upstreamConns,
    column('proxy TCP conns', (c) =>
      c.proxyConnections === undefined ? '–' : String(c.proxyConnections),
    ),
    errorCount,
  ];
  const proxyCells = cells.filter((c) => c.scenario === 'proxy');
  const upstreams = [...new Set(proxyCells.map((c) => c.upstream))];
  return upstreams
    .map((upstream) =>
      [
        `## 3. Proxy: SDK v1 client, upstream \`${upstream}\``,
        '',
        cellTable(
          columns,
          proxyCells.filter((c) => c.upstream === upstream),
        ),
      ].join('\n'),
    )
    .join('\n\n');
}

function erasTable(cells: CellResult[]): string {
  const eraCells = cells.filter((c) => c.scenario === 'eras');
  if (eraCells.length === 0) return '';
  const columns = [
    subject('era'),
    inFlight,
    callsPerSec(),
    p50,
    p99,
    cpuOf('client'),
    cpuOf('proxy'),
    cpuOf('upstream'),
    cpuRatio('proxy CPU ÷ 2025-11-25', 'proxy', baseline(cells, 'eras', '2025-11-25')),
    errorCount,
  ];
  const title = '## 3b. Eras: our client through our proxy, 2025-11-25 (session) vs 2026-07-28';
  return `${title}\n\n${cellTable(columns, eraCells)}\n`;
}

function largeTable(cells: CellResult[]): string {
  const large = cells.filter((c) => c.scenario === 'large');
  if (large.length === 0) return '';
  const undiciWindows = baseline(cells, 'large', (c) =>
    c.subject.replace(/, \w+ windows$/, ', undici windows'),
  );
  const columns = [
    subject('path'),
    inFlight,
    callsPerSec('calls/s (= MB/s)'),
    rateRatio('calls/s ÷ undici windows', undiciWindows),
    p50,
    p99,
    cpuOf('client'),
    cpuOf('proxy'),
    cpuOf('upstream'),
    rssOf('client'),
    rssOf('proxy'),
    errorCount,
  ];
  return [
    '## 3c. Large results: tools/call of 1 MB, our client, HTTP/2 flow control',
    '',
    "Our receive windows (1 MiB per stream, 10 MiB per connection) against undici 8.13.1's",
    '(256 KiB, 512 KiB), direct over h2c and through our proxy (client and proxy pool alike).',
    '',
    cellTable(columns, large),
  ].join('\n');
}

/** A phase's CPU per call ÷ another client's at the same level. */
export function phaseRatio(
  phases: PhaseResult[],
  phase: PhaseResult,
  baseline: PhaseResult['client'],
): number | undefined {
  const base = phases.find(
    (p) => p.client === baseline && p.concurrency === phase.concurrency && p.missing === undefined,
  );
  if (base === undefined || phase.missing !== undefined) return undefined;
  return phase.cpuUsPerCall / base.cpuUsPerCall;
}

function phasesTable(phases: PhaseResult[]): string {
  if (phases.length === 0) return '';
  const x = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(2)}x`);
  return [
    '## 2c. Clients, whole phases: a fresh process, calls from cold, GC included',
    '',
    'Each phase: a new load-generator process opens its session, then makes the calls with no',
    "warm-up; CPU is the whole phase's. The clients take turns; a figure is its best phase, and",
    'every phase is listed.',
    '',
    table(
      [
        'client',
        'in flight',
        'calls',
        'seconds',
        'errors',
        'client CPU µs/call',
        'every phase µs/call',
        'client CPU ÷ SDK v1',
        'client CPU ÷ undici floor',
      ],
      phases.map((p) =>
        p.missing !== undefined
          ? [p.client, String(p.concurrency), `missing: ${p.missing}`, '', '', '', '', '', '']
          : [
              p.client,
              String(p.concurrency),
              n(p.calls),
              n(p.seconds, 2),
              String(p.errors),
              n(p.cpuUsPerCall),
              p.cpuUsPerCallRounds.map((v) => n(v)).join(' / '),
              x(phaseRatio(phases, p, 'sdk-v1')),
              x(phaseRatio(phases, p, 'undici')),
            ],
      ),
    ),
    '',
  ].join('\n');
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
        'proxy RSS before MB',
        'KB per call in flight',
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
          n(scale.proxyRssBeforeMb),
          n(scalePerCallKb(scale), 1),
          n(scale.proxyPeakHeapMb),
          n(scale.proxyCpuUsPerCall),
        ],
      ],
    ),
    scale.firstError ? `\nFirst error: ${scale.firstError}` : '',
  ].join('\n');
}

/** The proxy's RSS growth from its idle state to its peak, per call in flight, KB. */
export function scalePerCallKb(scale: ScaleResult): number {
  return ((scale.proxyPeakRssMb - scale.proxyRssBeforeMb) * 1024) / Math.max(1, scale.calls);
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
    phasesTable(report.phases),
    proxyTables(report.cells),
    '',
    erasTable(report.cells),
    largeTable(report.cells),
    '',
    scaleTable(report.scale),
    errors.length > 0 ? `\n## Errors seen\n\n${errors.join('\n')}` : '',
    report.profiles.length > 0 ? `\n## Profiles\n\n${report.profiles.join('\n\n')}` : '',
    '',
  ].join('\n');
}
