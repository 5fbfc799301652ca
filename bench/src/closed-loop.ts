/**
 * A closed-loop load on one client: `concurrency` workers, each issuing its next call when the
 * previous one settles. It can pause (no call in flight) between measured windows, so load
 * generators of several clients can take turns on the same servers.
 */
import { performance } from 'node:perf_hooks';
import type { BenchClient } from './clients.ts';
import { type LoadResult, ProfileWindows, snapshot } from './ipc.ts';
import { LatencyRecorder } from './latency.ts';

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}

export class ClosedLoop {
  readonly #client: BenchClient;
  readonly #concurrency: number;
  #running = false;
  #inFlight = 0;
  #completed = 0;
  #latencies: LatencyRecorder | undefined;
  #errors = 0;
  #firstError: string | undefined;
  #onCompletion: (() => void) | undefined;
  #onIdle: (() => void) | undefined;
  readonly windows = new ProfileWindows();

  constructor(client: BenchClient, concurrency: number) {
    this.#client = client;
    this.#concurrency = concurrency;
  }

  /**
   * Starts the workers and resolves once the load is steady: at least `minMs`, and until every
   * slot completed `cycles` calls (at most 4 x minMs).
   */
  async ramp(minMs: number, cycles: number): Promise<void> {
    this.#running = true;
    const start = this.#completed;
    for (let i = 0; i < this.#concurrency; i += 1) void this.#worker();
    await this.#phase(
      minMs,
      minMs * 4,
      () => this.#completed - start >= cycles * this.#concurrency,
    );
  }

  /**
   * Measures one window under steady load: at least `minMs`, and until `concurrency` calls
   * completed in it (at most 3 x minMs). Then stops issuing calls.
   */
  async measure(minMs: number): Promise<LoadResult> {
    const latencies = new LatencyRecorder();
    this.#latencies = latencies;
    this.#errors = 0;
    const cpuStart = process.cpuUsage();
    const startedAt = performance.now();
    this.windows.start();
    await this.#phase(minMs, minMs * 3, () => latencies.count + this.#errors >= this.#concurrency);
    this.#running = false;
    this.#latencies = undefined;
    this.windows.end();
    const cpu = process.cpuUsage(cpuStart);
    const elapsed = performance.now() - startedAt;
    const stats = snapshot(0);
    return {
      calls: latencies.count,
      errors: this.#errors,
      firstError: this.#firstError,
      durationMs: elapsed,
      p50Ms: latencies.quantile(0.5),
      p99Ms: latencies.quantile(0.99),
      cpuUs: cpu.user + cpu.system,
      rss: stats.rss,
      maxRss: stats.maxRss,
    };
  }

  /** Resolves once no call is in flight (after `measure`, calls in flight finish unmeasured). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onIdle = resolve;
    });
  }

  async #worker(): Promise<void> {
    this.#inFlight += 1;
    while (this.#running) {
      const started = performance.now();
      try {
        await this.#client.call();
        this.#latencies?.record(performance.now() - started);
      } catch (error) {
        if (this.#latencies) this.#errors += 1;
        this.#firstError ??= describeError(error);
      }
      this.#completed += 1;
      this.#onCompletion?.();
    }
    this.#inFlight -= 1;
    if (this.#inFlight === 0) {
      const onIdle = this.#onIdle;
      this.#onIdle = undefined;
      onIdle?.();
    }
  }

  /** Resolves once `minMs` passed and `enough()` holds (checked per completion), or at `maxMs`. */
  #phase(minMs: number, maxMs: number, enough: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      let minPassed = false;
      const finish = (): void => {
        clearTimeout(minTimer);
        clearTimeout(maxTimer);
        this.#onCompletion = undefined;
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
      this.#onCompletion = check;
    });
  }
}
