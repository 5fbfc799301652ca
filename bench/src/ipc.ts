import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * The messages the bench's processes exchange over the fork IPC channel, and the child side of
 * the stats protocol: every child answers `stats` with its own CPU time and memory, so CPU is
 * attributed per process.
 */

export interface ProcessStats {
  /** User + system CPU time of the process so far, in µs. */
  cpuUs: number;
  /** Resident set size now, in bytes. */
  rss: number;
  /** Peak resident set size over the process's life, in bytes. */
  maxRss: number;
  /** TCP connections the process accepted so far (servers only). */
  accepted: number;
  /** Peak V8 heap used, sampled every 50 ms when the child was asked to (else 0), in bytes. */
  peakHeapUsed: number;
}

let peakHeapUsed = 0;

/** Samples the V8 heap every 50 ms, so a server can tell its peak live heap from its peak RSS. */
function sampleHeap(): void {
  const timer = setInterval(() => {
    peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
  }, 50);
  timer.unref();
}

export type ParentMessage =
  | { type: 'stats'; seq: number; mark?: 'start' | 'end' }
  | { type: 'run' }
  | { type: 'go' }
  | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready'; ports: Record<string, number>; path?: string }
  | ({ type: 'stats'; seq: number } & ProcessStats)
  | { type: 'warm' }
  | { type: 'result'; result: LoadResult }
  | { type: 'paused' }
  | { type: 'failed'; error: string };

export interface LoadResult {
  calls: number;
  errors: number;
  firstError: string | undefined;
  durationMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the load generator spent in the measured window, in µs. */
  cpuUs: number;
  rss: number;
  maxRss: number;
}

export function snapshot(accepted: number): ProcessStats {
  const cpu = process.cpuUsage();
  return {
    cpuUs: cpu.user + cpu.system,
    rss: process.memoryUsage.rss(),
    maxRss: process.resourceUsage().maxRSS * 1024,
    accepted,
    peakHeapUsed,
  };
}

export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

/**
 * Measured windows, as [start, end] in µs of the monotonic clock (the clock V8's CPU profiles
 * use), written beside this process's `.cpuprofile` so its summary can keep only those samples.
 */
export class ProfileWindows {
  readonly #windows: Array<[number, number]> = [];
  #start: number | undefined;

  static now(): number {
    return Number(process.hrtime.bigint() / 1000n);
  }

  start(): void {
    this.#start = ProfileWindows.now();
  }

  end(): void {
    if (this.#start === undefined) return;
    this.#windows.push([this.#start, ProfileWindows.now()]);
    this.#start = undefined;
  }

  /** Writes `<name>.windows.json` beside the profile, when this process runs under --cpu-prof. */
  write(): void {
    const dir = flagValue('--cpu-prof-dir');
    const name = flagValue('--cpu-prof-name');
    if (dir === undefined || name === undefined) return;
    writeFileSync(
      path.join(dir, name.replace(/\.cpuprofile$/, '.windows.json')),
      JSON.stringify(this.#windows),
    );
  }
}

function flagValue(flag: string): string | undefined {
  const arg = process.execArgv.find((a) => a.startsWith(`${flag}=`));
  return arg?.slice(flag.length + 1);
}

/**
 * Makes this child answer stats requests and stop when told to or when the parent goes away,
 * so nothing outlives the run.
 */
export function serveChild(options: {
  accepted?: () => number;
  close?: () => Promise<void>;
  onGo?: () => void;
  /** Called when the parent opens a measured window. */
  onWindowStart?: () => void;
  /** Sample the V8 heap every 50 ms for `peakHeapUsed` (costs ~1-2% CPU: scale only). */
  sampleHeap?: boolean;
}): void {
  let stopping = false;
  const windows = new ProfileWindows();
  if (options.sampleHeap) sampleHeap();
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    windows.write();
    const timer = setTimeout(() => process.exit(0), 2_000);
    try {
      await options.close?.();
    } finally {
      clearTimeout(timer);
      process.exit(0);
    }
  };
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    if (message.type === 'stats') {
      if (message.mark === 'start') {
        windows.start();
        options.onWindowStart?.();
      } else if (message.mark === 'end') windows.end();
      void send({ type: 'stats', seq: message.seq, ...snapshot(options.accepted?.() ?? 0) });
    } else if (message.type === 'go') {
      options.onGo?.();
    } else if (message.type === 'stop') {
      void stop();
    }
  });
  process.on('disconnect', () => void stop());
}

/** Reads `--name=value` style arguments given to a child. */
export function childArgs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of process.argv.slice(2)) {
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    if (match?.[1] !== undefined && match[2] !== undefined) out[match[1]] = match[2];
  }
  return out;
}

/**
 * Serves `handle` over HTTP/1.1 on 127.0.0.1 as a bench child: counts accepted TCP connections,
 * reports its port once listening, answers 500 when `handle` rejects, and on stop closes every
 * connection, then `closeAlso`.
 */
export function serveHttp1Child(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>,
  closeAlso?: () => Promise<void>,
): void {
  let accepted = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    Promise.resolve(handle(req, res)).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', () => {
    accepted += 1;
  });
  serveChild({
    accepted: () => accepted,
    close: async () => {
      server.closeAllConnections();
      await Promise.all([new Promise((resolve) => server.close(resolve)), closeAlso?.()]);
    },
  });
  server.listen(0, '127.0.0.1', () => {
    void send({ type: 'ready', ports: { h1: (server.address() as AddressInfo).port } });
  });
}
