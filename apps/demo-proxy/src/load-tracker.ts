/** Requests in flight across the proxy, and whether it is draining for shutdown. */
export class LoadTracker {
  #inFlight = 0;
  #draining = false;
  #idleWaiters: Array<() => void> = [];

  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#draining;
  }

  startDraining(): void {
    this.#draining = true;
  }

  enter(): void {
    this.#inFlight++;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Resolves true once nothing is in flight, false if `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.push(wake);
    });
  }
}
