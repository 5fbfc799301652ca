/**
 * What a request keeps only while it resumes an SSE answer (made on first use, so a request
 * answered at once carries none of it): the abort listeners undici adds for each GET, with the
 * request as its signal, and the wait between attempts.
 */
export class ResumeWaits {
  // undici registers two listeners per GET (its request handler, which destroys a body being
  // read, and its dispatch, which stops a request not yet answered): both must run.
  #listeners: Array<() => void> = [];
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  add(listener: () => void): void {
    this.#listeners.push(listener);
  }

  remove(listener: () => void): void {
    const i = this.#listeners.indexOf(listener);
    if (i !== -1) this.#listeners.splice(i, 1);
  }

  /** The request failed: every listener runs (undici resets the GET's stream), once. */
  abort(): void {
    for (const listener of this.#listeners.splice(0)) listener();
  }

  /** Waits `ms`, or until `wake()`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  /** Ends a wait early (the request settled); no timer is left behind. */
  wake(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake?.();
  }
}
