import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ProxyConfigInput } from '../config.ts';

const VICTIM = fileURLToPath(new URL('./victim.ts', import.meta.url));

/** A proxy (with its upstream) in a child process, watched from the test process. */
export interface Victim {
  readonly url: string;
  /** RSS the victim reported, in MB: the first, and the largest so far. */
  readonly rss: { first: number; peak: number; last: number };
  /** The longest gap between two heartbeats so far, in ms (a frozen loop never beats again). */
  longestSilenceMs(): number;
  /** Kills the victim (SIGKILL) and waits for it to be gone. */
  kill(): Promise<void>;
}

/** Starts the victim and resolves once its proxy listens. */
export async function startVictim(overrides: Partial<ProxyConfigInput> = {}): Promise<Victim> {
  const child: ChildProcess = spawn(process.execPath, [VICTIM, JSON.stringify(overrides)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [first] = (await once(lines, 'line')) as [string];
  if (!first.startsWith('url ')) throw new Error(`victim said ${first}`);
  const rss = { first: 0, peak: 0, last: 0 };
  let lastBeat = performance.now();
  let longest = 0;
  lines.on('line', (line) => {
    const mb = Number(/^beat (\d+)$/.exec(line)?.[1]);
    if (!Number.isFinite(mb)) return;
    const now = performance.now();
    longest = Math.max(longest, now - lastBeat);
    lastBeat = now;
    if (rss.first === 0) rss.first = mb;
    rss.peak = Math.max(rss.peak, mb);
    rss.last = mb;
  });
  const exited = once(child, 'exit');
  return {
    url: first.slice('url '.length),
    rss,
    longestSilenceMs: () => Math.max(longest, performance.now() - lastBeat),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
