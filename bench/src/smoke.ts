/**
 * `pnpm bench -- --smoke` (CI): a short run of the paths people use, with one round per cell. It
 * fails on errors and wrong answers (every client checks each answer, see `checkAnswer`), never
 * on timing: no figure of it is compared with anything.
 */
import type { CellResult } from './cell.ts';
import type { ScaleResult } from './report.ts';

/** The scale scenario's size in a smoke run: 10 sessions x 100 calls of the 500 ms tool. */
export const SMOKE_SCALE_SESSIONS = 10;

/** What went wrong in a smoke run; empty when it passed. */
export function smokeFailures(cells: CellResult[], scale: ScaleResult | undefined): string[] {
  const failures: string[] = [];
  for (const cell of cells) {
    const name = `${cell.scenario} ${cell.subject} ${cell.upstream} @${cell.concurrency}`;
    if (cell.missing !== undefined) failures.push(`${name}: did not run: ${cell.missing}`);
    else if (cell.calls === 0) failures.push(`${name}: no call completed`);
    // firstError is kept for errors outside the measured window too (warm-up, ramp).
    if (cell.errors > 0 || cell.firstError !== undefined) {
      failures.push(`${name}: ${cell.errors} errors in the window; first: ${cell.firstError}`);
    }
  }
  if (scale === undefined) failures.push('scale: not run');
  else if (scale.missing !== undefined) failures.push(`scale: did not run: ${scale.missing}`);
  else if (scale.errors > 0 || scale.completed !== scale.calls) {
    failures.push(
      `scale: ${scale.completed} of ${scale.calls} calls completed, ${scale.errors} errors; first: ${scale.firstError}`,
    );
  }
  return failures;
}
