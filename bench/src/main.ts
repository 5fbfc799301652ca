/**
 * `pnpm bench`: compares our MCP client and proxy against what users would use instead (the
 * official SDK v1 and v2 clients, a proxy built from the SDK alone) and against raw HTTP/2
 * floors, in one run of a few minutes. Every server, proxy and load generator runs in its own
 * process so CPU per call is attributed per process.
 *
 * Flags: --quick (shorter cells), --profile (write .cpuprofile files for every child and
 * summarise them), --only=client,phases,floor,sdk-transport,proxy,large,eras,scale,
 * --in-flight=1,16,256, --rounds=N.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type CellResult, type CellSpec, missingCell, runGroup, type Timing } from './cell.ts';
import { writeCharts } from './charts.ts';
import { BenchChild } from './child-process.ts';
import { type ClientKind, HTTP1_CLIENTS } from './clients.ts';
import { h2loadAvailable, runH2load } from './h2load.ts';
import { summariseHeapProfile } from './heap-sampler.ts';
import { LARGE_TOOL } from './mcp-echo.ts';
import { type PhaseResult, runPhases } from './phases.ts';
import { summariseProfile } from './profile-summary.ts';
import { type RunReport, renderMarkdown, type ScaleResult } from './report.ts';
import { runScale } from './scale.ts';
import { SMOKE_SCALE_SESSIONS, smokeFailures } from './smoke.ts';
import { CONCURRENCY, checkTargets } from './targets.ts';

const argv = process.argv.slice(2);
const profile = argv.includes('--profile');
/** CI: one short round of each path people use; fails on errors and wrong answers only. */
const smoke = argv.includes('--smoke');
const quick = smoke || argv.includes('--quick');
const only = smoke
  ? ['client', 'proxy', 'large', 'scale']
  : argv
      .find((arg) => arg.startsWith('--only='))
      ?.slice('--only='.length)
      .split(',');
const enabled = (scenario: string): boolean => only === undefined || only.includes(scenario);
const inFlightArg = argv.find((arg) => arg.startsWith('--in-flight='));
const LEVELS: readonly number[] = smoke
  ? [16]
  : inFlightArg
    ? inFlightArg.slice('--in-flight='.length).split(',').map(Number)
    : CONCURRENCY;

const timing: Timing = quick
  ? { warmupMs: 500, durationMs: 500 }
  : { warmupMs: 1_000, durationMs: 600 };
const roundsArg = argv.find((arg) => arg.startsWith('--rounds='));
const rounds = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : quick ? 1 : 3;
const H2LOAD_REQUESTS: Record<number, number> = { 1: 4_000, 16: 20_000, 256: 20_000 };

const resultsDir = path.join(import.meta.dirname, '..', 'results');
const profileDir = profile ? path.join(resultsDir, 'profiles') : undefined;
const children = new Set<BenchChild>();

function spawn(script: string, args: Record<string, string | number>, label: string): BenchChild {
  const child = new BenchChild(script, args, { label, profileDir });
  children.add(child);
  child.process.once('exit', (code, signal) => {
    children.delete(child);
    if (code !== 0) log(`${label} exited with ${signal ?? `code ${code}`}`);
  });
  return child;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function describeCell(cell: CellResult): string {
  const head = `${cell.scenario.padEnd(6)} ${cell.subject.padEnd(14)} ${cell.upstream.padEnd(5)} @${String(cell.concurrency).padEnd(4)}`;
  if (cell.missing !== undefined) return `${head} MISSING: ${cell.missing}`;
  const cpus = cell.processes.map((p) => `${p.role} ${p.cpuUsPerCall.toFixed(0)}µs`).join(', ');
  return `${head} ${cell.callsPerSec.toFixed(0).padStart(6)} calls/s p50 ${cell.p50Ms.toFixed(2)} p99 ${cell.p99Ms.toFixed(2)} ms | ${cpus} | upstream conns ${cell.upstreamConnections} | errors ${cell.errors}`;
}

async function group(specs: CellSpec[]): Promise<CellResult[]> {
  const results = await runGroup(specs, {
    timing,
    rounds,
    spawnLoad: (args, label) => spawn('loadgen.ts', args, label),
  });
  for (const result of results) log(describeCell(result));
  return results;
}

async function startProxy(
  script: string,
  label: string,
  upstreamUrl: string,
  h2c: boolean,
  extra: Record<string, string> = {},
): Promise<{ proxy: BenchChild; url: string }> {
  const proxy = spawn(script, { upstream: upstreamUrl, h2c: String(h2c), ...extra }, label);
  try {
    const { ports, path } = await proxy.endpoint();
    return { proxy, url: `http://127.0.0.1:${ports.h1 ?? ports.h2}${path}` };
  } catch (error) {
    await proxy.stop();
    throw error;
  }
}

/**
 * HTTP/2 flow control: our client calling the 1 MB tool at 16 in flight, with our receive
 * windows and with undici's, direct to the fast upstream (h2c) and through our proxy (whose
 * upstream pool gets the same windows as the client).
 */
async function runLarge(fast: BenchChild, fastH2: string): Promise<CellResult[]> {
  const all = [
    { windows: 'ours', client: 'ours' },
    { windows: 'undici', client: 'ours-undici-windows' },
  ] as const;
  const settings = smoke ? all.slice(0, 1) : all;
  const proxies = await Promise.all(
    settings.map(({ windows }) =>
      startProxy('proxy-ours.ts', `large-proxy-ours-${windows}`, fastH2, true, { windows }),
    ),
  );
  try {
    const base = { scenario: 'large', upstreamName: 'fast', upstream: fast, tool: LARGE_TOOL };
    return await group(
      settings.flatMap(({ windows, client }, i) => [
        { ...base, subject: `direct, ${windows} windows`, client, url: fastH2, concurrency: 16 },
        {
          ...base,
          subject: `via our proxy, ${windows} windows`,
          client,
          url: proxies[i]?.url ?? '',
          concurrency: 16,
          proxy: proxies[i]?.proxy,
        },
      ]),
    );
  } finally {
    await Promise.all(proxies.map(({ proxy }) => proxy.stop()));
  }
}

/**
 * Eras: our client through our proxy to the fast upstream (h2c all the way), once speaking
 * 2025-11-25 (a session) and once 2026-07-28 (stateless: envelope, standard headers, no
 * session), the proxy relaying each era as it is (`era: 'both'`). Same proxy process.
 */
async function erasScenario(fast: BenchChild, fastH2: string): Promise<CellResult[]> {
  const { proxy, url } = await startProxy('proxy-ours.ts', 'proxy-ours-eras', fastH2, true, {
    era: 'both',
  });
  const cells: CellResult[] = [];
  try {
    for (const concurrency of LEVELS) {
      const eras = [
        { subject: '2025-11-25', client: 'ours' as const },
        { subject: '2026-07-28', client: 'ours-modern' as const },
      ];
      const specs = eras.map(({ subject, client }) => ({
        scenario: 'eras',
        subject,
        upstreamName: 'fast',
        client,
        url,
        concurrency,
        upstream: fast,
        proxy,
      }));
      cells.push(...(await group(specs)));
    }
  } finally {
    await proxy.stop();
  }
  return cells;
}

async function main(): Promise<RunReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg()[0]?.toFixed(2);
  if (profileDir) {
    await rm(profileDir, { recursive: true, force: true });
    await mkdir(profileDir, { recursive: true });
  }
  const cells: CellResult[] = [];
  let scale: ScaleResult | undefined;
  let phases: PhaseResult[] = [];

  const fast = spawn('upstream-fast.ts', {}, 'upstream-fast');
  const sdk = spawn('upstream-sdk.ts', {}, 'upstream-sdk');
  const [fastPorts, sdkPorts] = await Promise.all([fast.ready(), sdk.ready()]);
  const fastH2 = `http://127.0.0.1:${fastPorts.h2}/mcp`;
  const fastH1 = `http://127.0.0.1:${fastPorts.h1}/mcp`;
  const sdkH1 = `http://127.0.0.1:${sdkPorts.h1}/mcp`;
  log(`upstreams: fast h2c ${fastH2}, fast http/1.1 ${fastH1}, sdk ${sdkH1}`);

  // Cells that are compared with each other run back to back, so a change in the machine's
  // background load shifts both sides of a ratio alike.
  const clientKinds: Array<[string, ClientKind]> = [];
  if (enabled('client')) {
    clientKinds.push(['client', 'ours'], ['client', 'sdk-v1']);
    if (!smoke) clientKinds.push(['client', 'sdk-v2']);
  }
  if (enabled('floor')) clientKinds.push(['floor', 'undici'], ['floor', 'node-http2']);
  if (enabled('sdk-transport')) {
    // The SDK Clients over their own transports and over @mcp/sdk-transport.
    for (const client of ['sdk-v1', 'sdk-v1-ours', 'sdk-v2', 'sdk-v2-ours'] as const) {
      clientKinds.push(['sdk-transport', client]);
    }
  }
  const h2load = enabled('floor') && h2loadAvailable();
  if (enabled('floor') && !h2load) {
    log('h2load not installed (apt-get install -y nghttp2-client): skipping its floor');
  }
  for (const concurrency of clientKinds.length > 0 ? LEVELS : []) {
    cells.push(
      ...(await group(
        clientKinds.map(([scenario, client]) => ({
          scenario,
          subject: client,
          upstreamName: 'fast',
          client,
          url: HTTP1_CLIENTS.includes(client) ? fastH1 : fastH2,
          concurrency,
          upstream: fast,
        })),
      )),
    );
    if (h2load) {
      const result = await runH2load({
        url: fastH2,
        concurrency,
        requests: (H2LOAD_REQUESTS[concurrency] ?? 20_000) / (quick ? 4 : 1),
        upstream: fast,
        upstreamName: 'fast',
      });
      log(describeCell(result));
      cells.push(result);
    }
  }

  if (enabled('phases')) {
    phases = await runPhases({
      spawn,
      urls: { h1: fastH1, h2: fastH2 },
      levels: LEVELS,
      rounds: quick ? 1 : 2,
    });
    for (const phase of phases) log(`phase ${JSON.stringify(phase)}`);
  }

  if (enabled('proxy')) {
    const upstreams = [
      { name: 'fast', child: fast, h1: fastH1, ours: fastH2 },
      { name: 'sdk', child: sdk, h1: sdkH1, ours: sdkH1 },
    ];
    for (const upstream of upstreams) {
      const base = {
        scenario: 'proxy',
        upstreamName: upstream.name,
        client: 'sdk-v1' as const,
        upstream: upstream.child,
      };
      const paths: Array<{ subject: string; url: string; proxy?: BenchChild; missing?: string }> = [
        { subject: 'direct', url: upstream.h1 },
      ];
      const proxies = [
        { subject: 'via sdk-proxy', script: 'proxy-sdk.ts', target: upstream.h1, h2c: false },
        {
          subject: 'via our proxy',
          script: 'proxy-ours.ts',
          target: upstream.ours,
          h2c: upstream.ours !== upstream.h1,
        },
        {
          subject: 'via raw proxy',
          script: 'proxy-raw.ts',
          target: upstream.ours,
          h2c: upstream.ours !== upstream.h1,
        },
      ];
      // The smoke run checks our proxy only, in front of both upstreams (h2c and HTTP/1.1).
      for (const proxy of smoke ? proxies.filter((p) => p.script === 'proxy-ours.ts') : proxies) {
        const label = `proxy-${proxy.script.replace('.ts', '').replace('proxy-', '')}-${upstream.name}`;
        try {
          paths.push({
            subject: proxy.subject,
            ...(await startProxy(proxy.script, label, proxy.target, proxy.h2c)),
          });
        } catch (error) {
          paths.push({
            subject: proxy.subject,
            url: '',
            missing: error instanceof Error ? error.message : String(error),
          });
        }
      }
      for (const concurrency of LEVELS) {
        const specs: CellSpec[] = [];
        for (const path of paths) {
          if (path.missing !== undefined) {
            const missing = missingCell(
              { ...base, subject: path.subject, concurrency },
              path.missing,
            );
            log(describeCell(missing));
            cells.push(missing);
          } else {
            specs.push({
              ...base,
              subject: path.subject,
              url: path.url,
              concurrency,
              proxy: path.proxy,
            });
          }
        }
        cells.push(...(await group(specs)));
      }
      await Promise.all(paths.map((path) => path.proxy?.stop()));
    }
  }

  if (enabled('large')) cells.push(...(await runLarge(fast, fastH2)));
  if (enabled('eras')) cells.push(...(await erasScenario(fast, fastH2)));

  await Promise.all([fast.stop(), sdk.stop()]);

  if (enabled('scale')) {
    scale = await runScale({
      spawn,
      sessions: smoke ? SMOKE_SCALE_SESSIONS : undefined,
      heapProfile: profileDir ? path.join(profileDir, 'scale-proxy-ours.heapprofile') : undefined,
    });
    log(`scale: ${JSON.stringify(scale)}`);
  }

  const profiles: string[] = [];
  if (profileDir) {
    await Promise.all([...children].map((child) => child.stop()));
    const interesting =
      /^(client-(ours|sdk-v1)-fast-\d+|floor-undici-fast-\d+|proxy-(ours|sdk|raw)-.*|upstream-.*|scale-.*)\.cpuprofile$/;
    for (const file of (await readdir(profileDir)).sort()) {
      if (interesting.test(file)) {
        profiles.push(await summariseProfile(path.join(profileDir, file)));
      }
      if (file.endsWith('.heapprofile')) {
        profiles.push(await summariseHeapProfile(path.join(profileDir, file)));
      }
    }
  }

  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  return {
    startedAt,
    seconds: (performance.now() - started) / 1000,
    machine: `${os.availableParallelism()} cores (${cpuModel}), Node ${process.version}, 1-min load average ${loadAtStart} at start, ${os.loadavg()[0]?.toFixed(2)} at end (the box is shared: other work inflates CPU per call)`,
    timing: `Each cell: its own load-generator process and session; ${rounds} measured windows of at least ${timing.durationMs} ms (after a warm-up of at least ${timing.warmupMs} ms), taken in turns with the cells it is compared with; figures are those of the best window (lowest total CPU per call: background load only adds).`,
    cells,
    scale,
    phases,
    targets: checkTargets(cells, scale, phases),
    profiles,
  };
}

const stopAll = async (): Promise<void> => {
  await Promise.all([...children].map((child) => child.stop()));
};
process.once('SIGINT', () => {
  void stopAll().finally(() => process.exit(130));
});

try {
  const report = await main();
  const markdown = renderMarkdown(report);
  await mkdir(resultsDir, { recursive: true });
  const name = smoke ? 'smoke' : profile ? 'profile' : 'latest';
  await writeFile(path.join(resultsDir, `${name}.md`), markdown);
  await writeFile(path.join(resultsDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(markdown);
  log(`wrote ${path.join(resultsDir, `${name}.md`)} and .json`);
  if (name === 'latest') {
    const charts = await writeCharts(resultsDir, report.cells);
    log(`wrote ${charts.length} charts: ${charts.join(', ')}`);
  }
  if (smoke) {
    const failures = smokeFailures(report.cells, report.scale);
    for (const failure of failures) log(`FAILED ${failure}`);
    log(failures.length === 0 ? 'bench smoke: passed' : `bench smoke: ${failures.length} failed`);
    process.exitCode = failures.length === 0 ? 0 : 1;
  }
} finally {
  await stopAll();
}
