import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface WatchedRun {
  /** `done`: the child printed `done` and exited 0; `frozen`: its heartbeat stopped. */
  outcome: 'done' | 'frozen' | 'failed';
  /** Resident set sizes the child reported (MB), in order. */
  rssMb: number[];
  /** What the child wrote to stderr (for failure messages). */
  stderr: string;
}

/**
 * Runs a Node script that prints `beat <rss MB>` lines while its event loop turns and `done`
 * when it is finished. A child that stays silent for `silenceMs` is frozen: it is killed
 * (SIGKILL) at once, so a spinning process never outlives the check.
 */
export function runWatched(script: string, args: string[], silenceMs: number): Promise<WatchedRun> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const rssMb: number[] = [];
  let stderr = '';
  let done = false;
  let frozen = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let timer = setTimeout(onSilence, silenceMs);
  function onSilence(): void {
    frozen = true;
    child.kill('SIGKILL');
  }
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'done') done = true;
    const beat = /^beat (\d+)$/.exec(line);
    if (beat !== null) rssMb.push(Number(beat[1]));
    clearTimeout(timer);
    if (!frozen) timer = setTimeout(onSilence, silenceMs);
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      const outcome = frozen ? 'frozen' : done && code === 0 ? 'done' : 'failed';
      resolve({ outcome, rssMb, stderr });
    });
  });
}
