import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface WatchedRun {
  /**
   * `done`: the child printed `done` and exited 0. `frozen`: its heartbeat stopped for
   * `silenceMs`; or its RSS passed `maxRssMb` while its heartbeat was late (a spinning nghttp2
   * session stops the loop and grows by hundreds of MB per second); or its RSS passed
   * `hardMaxRssMb` at all. `failed`: it exited otherwise.
   */
  outcome: 'done' | 'frozen' | 'failed';
  /** The largest RSS seen, in MB (what the child reported, or what /proc showed). */
  peakRssMb: number;
  /** What the child wrote to stderr (for failure messages). */
  stderr: string;
}

export interface WatchOptions {
  silenceMs: number;
  /** Frozen past this RSS when no beat came for LATE_BEAT_MS. */
  maxRssMb: number;
  /** Frozen past this RSS whatever the heartbeat says: bounds a leak that keeps the loop turning. */
  hardMaxRssMb: number;
}

/**
 * A beat this late means the loop is not turning. A churn whose loop turns may still pass
 * `maxRssMb` for a moment (its garbage, collected late on a busy machine): only with a late beat
 * is that a freeze.
 */
const LATE_BEAT_MS = 1000;

/**
 * Runs a Node script that prints `beat <rss MB>` lines while its event loop turns and `done`
 * when it is finished, and kills it (SIGKILL) the moment it looks frozen, so a spinning process
 * never outlives the check. Silence alone is a slow signal on a loaded machine, so the child's
 * RSS is read from /proc as well. The caller's test timeout bounds a child that never beats.
 */
export function runWatched(
  script: string,
  args: string[],
  limits: WatchOptions,
): Promise<WatchedRun> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let peakRssMb = 0;
  let stderr = '';
  let done = false;
  let frozen = false;
  const freeze = (): void => {
    frozen = true;
    child.kill('SIGKILL');
  };
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // Silence counts from the first beat: starting a process on a loaded machine is no freeze.
  let silence: NodeJS.Timeout | undefined;
  let lastBeatAt = performance.now();
  const rssWatch = setInterval(() => {
    const rss = procRssMb(child.pid);
    peakRssMb = Math.max(peakRssMb, rss);
    const late = performance.now() - lastBeatAt > LATE_BEAT_MS;
    if ((rss > limits.maxRssMb && late) || rss > limits.hardMaxRssMb) freeze();
  }, 200);
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'done') done = true;
    const beat = /^beat (\d+)$/.exec(line);
    if (beat !== null) {
      peakRssMb = Math.max(peakRssMb, Number(beat[1]));
      lastBeatAt = performance.now();
    }
    clearTimeout(silence);
    if (!frozen) silence = setTimeout(freeze, limits.silenceMs);
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(silence);
      clearInterval(rssWatch);
      const outcome = frozen ? 'frozen' : done && code === 0 ? 'done' : 'failed';
      resolve({ outcome, peakRssMb, stderr });
    });
  });
}

/** The resident set of a process in MB, from /proc (0 once it is gone, or off Linux). */
function procRssMb(pid: number | undefined): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Math.round(Number(match[1]) / 1024);
  } catch {
    return 0;
  }
}
