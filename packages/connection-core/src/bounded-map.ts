/**
 * A Map that holds at most `limit` entries: a key set becomes the newest, and past the limit the
 * oldest goes. For what is remembered on a peer's behalf (origins, request ids, session tokens),
 * so that no peer can make it grow without bound.
 */
export class BoundedMap<K, V> {
  readonly #limit: number;
  readonly #entries = new Map<K, V>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`BoundedMap limit must be a positive integer, got ${limit}`);
    }
    this.#limit = limit;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** Like `get`, and the entry becomes the newest: the least recently used goes first. */
  touch(key: K): V | undefined {
    const entries = this.#entries;
    const value = entries.get(key);
    if (value === undefined) return undefined;
    entries.delete(key);
    entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    const entries = this.#entries;
    entries.delete(key);
    entries.set(key, value);
    if (entries.size > this.#limit) entries.delete(entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
