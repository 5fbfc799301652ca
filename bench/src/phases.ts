/**
 * Whole phases: a client as a user meets it. For each client and in-flight level a fresh
 * load-generator process opens its session and then makes `PHASE_CALLS` calls from cold, JIT
 * warm-up and GC included; CPU per call is that process's CPU over the whole phase divided by
 * the calls. The clients take turns, `rounds` times, so background load on the shared box moves
 * one phase, not a ratio; the figure of a client is its best phase (background load only adds).
 */
import type { BenchChild } from './child-process.ts';
import { type ClientKind, HTTP1_CLIENTS } from './clients.ts';

export const PHASE_CALLS = 3_000;
export const PHASE_CLIENTS: readonly ClientKind[] = ['ours', 'sdk-v1', 'undici'];

export interface PhaseResult {
  client: ClientKind;
  concurrency: number;
  calls: number;
  errors: number;
  firstError?: string | undefined;
  /** The best phase's figures. */
  seconds: number;
  cpuUsPerCall: number;
  /** CPU µs per call of every round, in order. */
  cpuUsPerCallRounds: number[];
  missing?: string | undefined;
}

type Spawn = (script: string, args: Record<string, string | number>, label: string) => BenchChild;

/** Runs one phase in a fresh process; its LoadResult, or why it could not run. */
async function runPhase(
  spawn: Spawn,
  client: ClientKind,
  url: string,
  concurrency: number,
): Promise<{ seconds: number; cpuUs: number; calls: number; errors: number; firstError?: string }> {
  const load = spawn(
    'loadgen.ts',
    { mode: 'phase', client, url, concurrency, calls: PHASE_CALLS },
    `phase-${client}-${concurrency}`,
  );
  try {
    await load.next('warm', 60_000);
    load.go();
    const result = await load.result(300_000);
    return { ...result, seconds: result.durationMs / 1000 };
  } finally {
    await load.stop();
  }
}

export async function runPhases(options: {
  spawn: Spawn;
  urls: { h1: string; h2: string };
  levels: readonly number[];
  rounds: number;
}): Promise<PhaseResult[]> {
  const results: PhaseResult[] = [];
  for (const concurrency of options.levels) {
    const level = PHASE_CLIENTS.map(
      (client): PhaseResult => ({
        client,
        concurrency,
        calls: 0,
        errors: 0,
        seconds: 0,
        cpuUsPerCall: Number.POSITIVE_INFINITY,
        cpuUsPerCallRounds: [],
      }),
    );
    for (let round = 0; round < options.rounds; round += 1) {
      for (const result of level) {
        if (result.missing !== undefined) continue;
        const url = HTTP1_CLIENTS.includes(result.client) ? options.urls.h1 : options.urls.h2;
        try {
          const phase = await runPhase(options.spawn, result.client, url, concurrency);
          const perCall = phase.cpuUs / Math.max(1, phase.calls);
          result.cpuUsPerCallRounds.push(perCall);
          result.errors += phase.errors;
          result.firstError ??= phase.firstError;
          if (perCall < result.cpuUsPerCall) {
            Object.assign(result, { calls: phase.calls, seconds: phase.seconds });
            result.cpuUsPerCall = perCall;
          }
        } catch (error) {
          result.missing = error instanceof Error ? error.message : String(error);
        }
      }
    }
    results.push(...level);
  }
  return results;
}
