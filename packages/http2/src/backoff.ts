import type { ReconnectionOptions } from './options.ts';

/** The wait before reconnection attempt `attempt` (1-based): exponential, capped, jittered. */
export function backoffDelayMs(options: ReconnectionOptions, attempt: number): number {
  const base = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.factor ** Math.max(0, attempt - 1),
  );
  const jitter = options.jitter === 0 ? 1 : 1 + options.jitter * (Math.random() * 2 - 1);
  return Math.max(0, Math.round(base * jitter));
}
