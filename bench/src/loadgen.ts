/**
 * Child process: a closed-loop load generator. Opens one session with the chosen client, keeps
 * `concurrency` calls in flight through a warm-up, reports `warm`, and on `go` measures for
 * `durationMs`: calls completed in the window, their p50/p99 latency, and its own CPU.
 *
 * `--mode=scale` instead opens `sessions` sessions and fires `concurrency` calls on each at once,
 * reporting the time until all of them have settled.
 */
import { performance } from 'node:perf_hooks';
import { type BenchClient, type ClientKind, clientFactory } from './clients.ts';
import {
  childArgs,
  type LoadResult,
  type ParentMessage,
  ProfileWindows,
  send,
  snapshot,
} from './ipc.ts';
import { LatencyRecorder } from './latency.ts';

const args = childArgs();
const kind = (args.client ?? 'sdk-v1') as ClientKind;
const url = args.url ?? '';
const tool = args.tool ?? 'echo';
const concurrency = Number(args.concurrency ?? 1);
const warmupMs = Number(args.warmupMs ?? 1000);
const durationMs = Number(args.durationMs ?? 3000);
const sessions = Number(args.sessions ?? 1);

const windows = new ProfileWindows();
process.on('disconnect', () => process.exit(0));

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (raw: unknown): void => {
      if ((raw as ParentMessage).type === 'go') {
        process.off('message', onMessage);
        resolve();
      }
    };
    process.on('message', onMessage);
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}

async function closeAll(clients: BenchClient[]): Promise<void> {
  await Promise.race([
    Promise.allSettled(clients.map((client) => client.close())),
    new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
  ]);
}

/**
 * Resolves once `minMs` have passed and `enough()` holds, checked on every completed call, or
 * after `maxMs` whatever happens: windows stay bounded, yet long enough at high latency for every
 * call slot to have cycled.
 */
function phase(
  minMs: number,
  maxMs: number,
  enough: () => boolean,
  onCompletion: (check: (() => void) | undefined) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let minPassed = false;
    const finish = (): void => {
      clearTimeout(minTimer);
      clearTimeout(maxTimer);
      onCompletion(undefined);
      resolve();
    };
    const check = (): void => {
      if (minPassed && enough()) finish();
    };
    const minTimer = setTimeout(() => {
      minPassed = true;
      check();
    }, minMs);
    const maxTimer = setTimeout(finish, maxMs);
    onCompletion(check);
  });
}

async function runClosedLoop(client: BenchClient): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  let measuring = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let onCompletion: (() => void) | undefined;
  const setOnCompletion = (check: (() => void) | undefined): void => {
    onCompletion = check;
  };
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const started = performance.now();
      try {
        await client.call();
        if (measuring) latencies.record(performance.now() - started);
      } catch (error) {
        if (measuring) errors += 1;
        firstError ??= describe(error);
      }
      completed += 1;
      onCompletion?.();
    }
  };
  for (let i = 0; i < concurrency; i += 1) void worker();
  // Warm-up: at least warmupMs, and until every slot has completed two calls (max 4x).
  await phase(warmupMs, warmupMs * 4, () => completed >= 2 * concurrency, setOnCompletion);
  const go = waitForGo();
  await send({ type: 'warm' });
  await go;
  const cpuStart = process.cpuUsage();
  const startedAt = performance.now();
  windows.start();
  measuring = true;
  // Measurement: at least durationMs, and until `concurrency` calls completed in it (max 3x).
  await phase(
    durationMs,
    durationMs * 3,
    () => latencies.count + errors >= concurrency,
    setOnCompletion,
  );
  measuring = false;
  stopped = true;
  windows.end();
  const cpu = process.cpuUsage(cpuStart);
  const elapsed = performance.now() - startedAt;
  const stats = snapshot(0);
  return {
    calls: latencies.count,
    errors,
    firstError,
    durationMs: elapsed,
    p50Ms: latencies.quantile(0.5),
    p99Ms: latencies.quantile(0.99),
    cpuUs: cpu.user + cpu.system,
    rss: stats.rss,
    maxRss: stats.maxRss,
  };
}

async function runScale(clients: BenchClient[]): Promise<LoadResult> {
  const go = waitForGo();
  await send({ type: 'warm' });
  await go;
  const cpuStart = process.cpuUsage();
  const startedAt = performance.now();
  windows.start();
  const latencies = new LatencyRecorder();
  let errors = 0;
  let firstError: string | undefined;
  const calls: Promise<void>[] = [];
  for (const client of clients) {
    for (let i = 0; i < concurrency; i += 1) {
      calls.push(
        client.call().then(
          () => latencies.record(performance.now() - startedAt),
          (error: unknown) => {
            errors += 1;
            firstError ??= describe(error);
          },
        ),
      );
    }
  }
  await Promise.all(calls);
  windows.end();
  const cpu = process.cpuUsage(cpuStart);
  const stats = snapshot(0);
  return {
    calls: latencies.count,
    errors,
    firstError,
    durationMs: performance.now() - startedAt,
    p50Ms: latencies.quantile(0.5),
    p99Ms: latencies.quantile(0.99),
    cpuUs: cpu.user + cpu.system,
    rss: stats.rss,
    maxRss: stats.maxRss,
  };
}

try {
  const factory = await clientFactory(kind);
  const clients: BenchClient[] = [];
  for (let i = 0; i < sessions; i += 1) clients.push(await factory(url, tool));
  const first = clients[0];
  if (first === undefined) throw new Error('no session');
  // A first call outside any measurement: it fails fast when the client cannot work at all.
  await first.call();
  const result = args.mode === 'scale' ? await runScale(clients) : await runClosedLoop(first);
  await send({ type: 'result', result });
  windows.write();
  await closeAll(clients);
} catch (error) {
  await send({ type: 'failed', error: describe(error) });
}
process.exit(0);
