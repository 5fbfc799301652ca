/** Latency samples and percentiles. */

export class LatencyRecorder {
  #samples: number[] = [];

  record(ms: number): void {
    this.#samples.push(ms);
  }

  get count(): number {
    return this.#samples.length;
  }

  /** The q-quantile (0..1) of the samples, nearest rank; 0 when empty. */
  quantile(q: number): number {
    if (this.#samples.length === 0) return 0;
    const sorted = Float64Array.from(this.#samples).sort();
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[index] ?? 0;
  }
}
