/**
 * Child process: a closed-loop load generator. Opens one session with the chosen client and
 * reports `ready`; then, each time the parent asks (`run`), keeps `concurrency` calls in flight
 * until the load is steady, reports `warm`, and on `go` measures one window (calls completed in
 * it, their p50/p99 latency, its own CPU), reports `result`, lets the calls in flight finish and
 * reports `paused`. It exits on `stop` or when the parent goes away.
 *
 * `--mode=scale` instead opens `sessions` sessions and, on `go`, fires `concurrency` calls on
 * each at once, reporting the time until all of them have settled.
 *
 * `--mode=phase` opens one session and, on `go`, makes `calls` calls with `concurrency` in
 * flight from cold (no call before it, so JIT warm-up and GC count), reporting the whole phase.
 */
import { performance } from 'node:perf_hooks';
import { type BenchClient, type ClientKind, clientFactory } from './clients.ts';
import { ClosedLoop, describeError } from './closed-loop.ts';
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
const durationMs = Number(args.durationMs ?? 1000);
const sessions = Number(args.sessions ?? 1);

const windows = new ProfileWindows();
process.on('disconnect', () => process.exit(0));

/** Every message from the parent, in order, so none is lost between two waits. */
const inbox: ParentMessage[] = [];
let waiter: (() => void) | undefined;
process.on('message', (raw) => {
  inbox.push(raw as ParentMessage);
  const wake = waiter;
  waiter = undefined;
  wake?.();
});

async function nextMessage(): Promise<ParentMessage> {
  for (;;) {
    const message = inbox.shift();
    if (message !== undefined) return message;
    await new Promise<void>((resolve) => {
      waiter = resolve;
    });
  }
}

async function waitForGo(): Promise<void> {
  for (;;) {
    const message = await nextMessage();
    if (message.type === 'go') return;
    if (message.type === 'stop') process.exit(0);
  }
}

async function closeAll(clients: BenchClient[]): Promise<void> {
  await Promise.race([
    Promise.allSettled(clients.map((client) => client.close())),
    new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
  ]);
}

async function serveWindows(client: BenchClient): Promise<void> {
  const loop = new ClosedLoop(client, concurrency);
  let first = true;
  await send({ type: 'ready', ports: {} });
  for (;;) {
    const message = await nextMessage();
    if (message.type === 'stop') break;
    if (message.type !== 'run') continue;
    // The first time a full warm-up (JIT, connections); later a short ramp back to steady load.
    await loop.ramp(first ? warmupMs : Math.min(warmupMs, 200), first ? 2 : 1);
    first = false;
    await send({ type: 'warm' });
    await waitForGo();
    const result = await loop.measure(durationMs);
    await send({ type: 'result', result });
    await loop.idle();
    await send({ type: 'paused' });
  }
  loop.windows.write();
}

/** Measures `run` from now on: its calls' latencies and errors, and this process's CPU. */
async function measured(
  run: (record: (call: () => Promise<unknown>) => Promise<void>) => Promise<void>,
): Promise<LoadResult> {
  const cpuStart = process.cpuUsage();
  const startedAt = performance.now();
  windows.start();
  const latencies = new LatencyRecorder();
  let errors = 0;
  let firstError: string | undefined;
  await run(async (call) => {
    const callStarted = performance.now();
    try {
      await call();
      latencies.record(performance.now() - callStarted);
    } catch (error) {
      errors += 1;
      firstError ??= describeError(error);
    }
  });
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

/** Every session's `concurrency` calls, fired at once. */
async function runScale(clients: BenchClient[]): Promise<LoadResult> {
  await send({ type: 'warm' });
  await waitForGo();
  return measured(async (record) => {
    const calls: Promise<void>[] = [];
    for (const client of clients) {
      for (let i = 0; i < concurrency; i += 1) calls.push(record(() => client.call()));
    }
    await Promise.all(calls);
  });
}

/** `calls` calls, `concurrency` in flight, from cold. */
async function runPhase(client: BenchClient): Promise<LoadResult> {
  const total = Number(args.calls ?? 3_000);
  await send({ type: 'warm' });
  await waitForGo();
  return measured(async (record) => {
    let issued = 0;
    const worker = async (): Promise<void> => {
      for (; issued < total; ) {
        issued += 1;
        await record(() => client.call());
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  });
}

try {
  const factory = await clientFactory(kind);
  const clients: BenchClient[] = [];
  for (let i = 0; i < sessions; i += 1) clients.push(await factory(url, tool));
  const first = clients[0];
  if (first === undefined) throw new Error('no session');
  if (args.mode === 'phase') {
    await send({ type: 'result', result: await runPhase(first) });
    windows.write();
  } else {
    // A first call outside any measurement: it fails fast when the client cannot work at all.
    await first.call();
    if (args.mode === 'scale') {
      await send({ type: 'result', result: await runScale(clients) });
      windows.write();
    } else {
      await serveWindows(first);
    }
  }
  await closeAll(clients);
} catch (error) {
  await send({ type: 'failed', error: describeError(error) });
}
process.exit(0);
