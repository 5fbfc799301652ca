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
  /** CPU µs per completed call in the cell's best window. */
  cpuUsPerCall: number;
  /** The same, in every window (round). */
  cpuUsPerCallRounds?: number[];
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
  /** Windows measured; the figures are those of the best one (lowest total CPU per call). */
  rounds?: number;
  /** Set when the cell could not run (or a window failed): why. */
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
  /** The tool each call calls; `echo` when unset. */
  tool?: string | undefined;
  concurrency: number;
  upstream: BenchChild;
  proxy?: BenchChild | undefined;
}

export type SpawnLoad = (args: Record<string, string | number>, label: string) => BenchChild;

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
  spec: Pick<CellSpec, 'scenario' | 'subject' | 'upstreamName' | 'concurrency'>,
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

interface WindowFigures {
  calls: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError: string | undefined;
  durationMs: number;
  processes: ProcessFigures[];
}

/** One load generator process with its session open, measured in several windows. */
class Load {
  readonly spec: CellSpec;
  readonly child: BenchChild;
  readonly servers: Array<[Role, BenchChild]>;
  readonly windows: WindowFigures[] = [];
  /** TCP connections each server accepted while this load was the one running. */
  readonly accepted: number[];
  missing: string | undefined;

  constructor(spec: CellSpec, spawnLoad: SpawnLoad, timing: Timing) {
    this.spec = spec;
    this.servers = [['upstream', spec.upstream]];
    if (spec.proxy) this.servers.push(['proxy', spec.proxy]);
    this.accepted = this.servers.map(() => 0);
    const label =
      `${spec.scenario}-${spec.subject}-${spec.upstreamName}-${spec.concurrency}`.replaceAll(
        /[^a-z0-9-]+/gi,
        '_',
      );
    this.child = spawnLoad(
      {
        client: spec.client,
        url: spec.url,
        ...(spec.tool === undefined ? {} : { tool: spec.tool }),
        concurrency: spec.concurrency,
        warmupMs: timing.warmupMs,
        durationMs: timing.durationMs,
      },
      label,
    );
  }

  async #stats(mark?: 'start' | 'end'): Promise<ProcessStats[]> {
    return Promise.all(this.servers.map(([, child]) => child.stats(mark)));
  }

  /** Runs `body` and counts the connections the servers accepted meanwhile. */
  async #counting(body: () => Promise<void>): Promise<void> {
    const before = await this.#stats();
    try {
      await body();
    } finally {
      const after = await this.#stats();
      after.forEach((a, i) => {
        this.accepted[i] = (this.accepted[i] ?? 0) + a.accepted - (before[i]?.accepted ?? 0);
      });
    }
  }

  /** Waits for the session to be open (only this load runs meanwhile). */
  async open(): Promise<void> {
    try {
      await this.#counting(() => this.child.next('ready', 120_000).then(() => {}));
    } catch (error) {
      this.missing = error instanceof Error ? error.message : String(error);
    }
  }

  async measure(timing: Timing): Promise<void> {
    if (this.missing !== undefined) return;
    try {
      await this.#counting(() => this.#window(timing));
    } catch (error) {
      this.missing = error instanceof Error ? error.message : String(error);
    }
  }

  async #window(timing: Timing): Promise<void> {
    this.child.run();
    // Registered now: `paused` can arrive while the stats below are being collected.
    const paused = this.child.next('paused', timing.durationMs * 3 + 120_000);
    paused.catch(() => {});
    await this.child.next('warm', timing.warmupMs * 4 + 60_000);
    const before = await this.#stats('start');
    this.child.go();
    const result = await this.child.result(timing.durationMs * 3 + 60_000);
    const after = await this.#stats('end');
    const processes: ProcessFigures[] = [
      {
        role: 'client',
        cpuUsPerCall: result.calls > 0 ? result.cpuUs / result.calls : 0,
        rssMb: result.rss / MB,
        peakRssMb: result.maxRss / MB,
      },
    ];
    this.servers.forEach(([role], i) => {
      const b = before[i];
      const a = after[i];
      if (b && a) processes.push(figures(role, b, a, result.calls));
    });
    this.windows.push({
      calls: result.calls,
      callsPerSec: (result.calls / result.durationMs) * 1000,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      errors: result.errors,
      firstError: result.firstError,
      durationMs: result.durationMs,
      processes,
    });
    await paused;
  }

  async close(): Promise<void> {
    await this.child.stop();
  }

  /**
   * The cell's figures come from its best window: the one with the lowest total CPU per call
   * over all its processes. Background load on the shared box only ever adds CPU, so the best
   * of a few windows is the steadiest estimate; every window's CPU is kept in the JSON.
   */
  result(): CellResult {
    const best = [...this.windows].sort((a, b) => totalCpu(a) - totalCpu(b))[0];
    if (best === undefined) return missingCell(this.spec, this.missing ?? 'no window measured');
    return {
      scenario: this.spec.scenario,
      subject: this.spec.subject,
      upstream: this.spec.upstreamName,
      concurrency: this.spec.concurrency,
      rounds: this.windows.length,
      calls: best.calls,
      callsPerSec: best.callsPerSec,
      p50Ms: best.p50Ms,
      p99Ms: best.p99Ms,
      errors: this.windows.reduce((sum, w) => sum + w.errors, 0),
      firstError: this.windows.find((w) => w.firstError !== undefined)?.firstError,
      durationMs: best.durationMs,
      processes: best.processes.map((p, i) => ({
        ...p,
        cpuUsPerCallRounds: this.windows.map((w) => Math.round(w.processes[i]?.cpuUsPerCall ?? 0)),
        rssMb: Math.max(...this.windows.map((w) => w.processes[i]?.rssMb ?? 0)),
        peakRssMb: Math.max(...this.windows.map((w) => w.processes[i]?.peakRssMb ?? 0)),
      })),
      upstreamConnections: this.accepted[0] ?? 0,
      proxyConnections: this.spec.proxy ? (this.accepted[1] ?? 0) : undefined,
      missing: this.missing,
    };
  }
}

function totalCpu(window: WindowFigures): number {
  return window.processes.reduce((sum, p) => sum + p.cpuUsPerCall, 0);
}

/**
 * Measures a group of cells that are compared with each other: one load generator per cell,
 * all sessions open, then `rounds` rounds in which each takes its turn for one window. Each
 * cell keeps its best window, so a burst of background load on the box spoils one window, not a
 * ratio.
 */
export async function runGroup(
  specs: CellSpec[],
  options: { timing: Timing; rounds: number; spawnLoad: SpawnLoad },
): Promise<CellResult[]> {
  const loads: Load[] = [];
  try {
    for (const spec of specs) {
      const load = new Load(spec, options.spawnLoad, options.timing);
      loads.push(load);
      await load.open();
    }
    for (let round = 0; round < options.rounds; round += 1) {
      for (const load of loads) await load.measure(options.timing);
    }
  } finally {
    await Promise.all(loads.map((load) => load.close()));
  }
  return loads.map((load) => load.result());
}
