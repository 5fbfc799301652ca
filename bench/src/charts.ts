/**
 * SVG charts of a run, written beside latest.md: calls/s and CPU per call per path and in-flight
 * level, ours beside the SDK and the floors. Rendered by ECharts on the server (its SSR mode
 * needs no DOM).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as echarts from 'echarts';
import type { CellResult, Role } from './cell.ts';
import { cpu, find } from './report.ts';

interface Series {
  /** Legend label. */
  name: string;
  /** The cell of each category (x axis), if it ran. */
  cells: Array<CellResult | undefined>;
}

interface ChartSpec {
  file: string;
  title: string;
  /** What each bar measures. */
  value: (cell: CellResult | undefined) => number | undefined;
  unit: string;
  xName: string;
  categories: string[];
  series: Series[];
}

const WIDTH = 760;
const HEIGHT = 340;

function render(spec: ChartSpec): string {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: WIDTH,
    height: HEIGHT,
  });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    title: { text: spec.title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 32 },
    grid: { left: 70, right: 20, top: 80, bottom: 40 },
    xAxis: {
      type: 'category',
      name: spec.xName,
      nameLocation: 'middle',
      nameGap: 26,
      data: spec.categories,
    },
    yAxis: { type: 'value', name: spec.unit },
    series: spec.series.map((s) => ({
      name: s.name,
      type: 'bar',
      label: { show: true, position: 'top', fontSize: 9 },
      data: s.cells.map((cell) => {
        const value = spec.value(cell);
        return value === undefined ? null : Math.round(value);
      }),
    })),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return `${svg}\n`;
}

const callsPerSec = (cell: CellResult | undefined) => cell?.callsPerSec;
const cpuOf = (role: Role) => (cell: CellResult | undefined) => cpu(cell, role);

function specs(cells: CellResult[]): ChartSpec[] {
  const levels = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  const byLevel = (name: string, scenario: string, subject: string, upstream: string): Series => ({
    name,
    cells: levels.map((level) => find(cells, scenario, subject, upstream, level)),
  });
  const clients = [
    byLevel('ours', 'client', 'ours', 'fast'),
    byLevel('SDK v1', 'client', 'sdk-v1', 'fast'),
    byLevel('SDK v2', 'client', 'sdk-v2', 'fast'),
    byLevel('undici floor', 'floor', 'undici', 'fast'),
    byLevel('node:http2 floor', 'floor', 'node-http2', 'fast'),
  ];
  const paths = (upstream: string, withDirect: boolean): Series[] => [
    ...(withDirect ? [byLevel('direct', 'proxy', 'direct', upstream)] : []),
    byLevel('via SDK-only proxy', 'proxy', 'via sdk-proxy', upstream),
    byLevel('via our proxy', 'proxy', 'via our proxy', upstream),
    byLevel('via raw proxy floor', 'proxy', 'via raw proxy', upstream),
  ];
  const byLevels = { xName: 'in flight', categories: levels.map(String) };
  const out: ChartSpec[] = [
    {
      ...byLevels,
      file: 'clients-calls.svg',
      title: 'Clients: calls/s, one session, fast upstream (higher is better)',
      value: callsPerSec,
      unit: 'calls/s',
      series: clients,
    },
    {
      ...byLevels,
      file: 'clients-cpu.svg',
      title: "Clients: the client process's CPU µs per call (lower is better)",
      value: cpuOf('client'),
      unit: 'µs/call',
      series: clients,
    },
  ];
  for (const upstream of ['fast', 'sdk']) {
    out.push(
      {
        ...byLevels,
        file: `proxy-${upstream}-calls.svg`,
        title: `Proxy, SDK v1 client, ${upstream} upstream: calls/s (higher is better)`,
        value: callsPerSec,
        unit: 'calls/s',
        series: paths(upstream, true),
      },
      {
        ...byLevels,
        file: `proxy-${upstream}-cpu.svg`,
        title: `Proxy, ${upstream} upstream: the proxy's CPU µs per call (lower is better)`,
        value: cpuOf('proxy'),
        unit: 'µs/call',
        series: paths(upstream, false),
      },
    );
  }
  const large = (windows: string): Series => ({
    name: `${windows} windows`,
    cells: ['direct', 'via our proxy'].map((path) =>
      cells.find((c) => c.scenario === 'large' && c.subject === `${path}, ${windows} windows`),
    ),
  });
  out.push({
    file: 'large.svg',
    title: '1 MB results, our client, 16 in flight: calls/s (= MB/s, higher is better)',
    value: callsPerSec,
    unit: 'calls/s',
    xName: 'path',
    categories: ['direct (h2c)', 'via our proxy'],
    series: [large('ours'), large('undici')],
  });
  // A chart with no figure at all (its scenario did not run) is not written.
  return out.filter((spec) =>
    spec.series.some((s) => s.cells.some((c) => c?.missing === undefined && c !== undefined)),
  );
}

/** Writes one SVG per chart into `dir`; returns the file names written. */
export async function writeCharts(dir: string, cells: CellResult[]): Promise<string[]> {
  const written: string[] = [];
  for (const spec of specs(cells)) {
    await writeFile(path.join(dir, spec.file), render(spec));
    written.push(spec.file);
  }
  return written;
}
