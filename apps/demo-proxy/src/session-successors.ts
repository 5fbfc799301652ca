import { BoundedMap } from '@mcp/connection-core';

/**
 * What one replica learned about upstream sessions that sealed tokens name: the token it now
 * serves one under (after re-initializing it, or re-sealing it), or that the session was
 * ended here. A client that keeps an older token is so served in the same session, and one
 * that ended its session gets 404, instead of each request opening another upstream session.
 * Bounded: the least recently used entries go first.
 */
export const ENDED = Symbol('ended');

export class SessionSuccessors {
  readonly #next: BoundedMap<string, string | typeof ENDED>;

  constructor(limit: number) {
    this.#next = new BoundedMap(limit);
  }

  /** The token that replaced the upstream session `key`, ENDED, or undefined when none did. */
  get(key: string): string | typeof ENDED | undefined {
    return this.#next.touch(key);
  }

  set(key: string, next: string | typeof ENDED): void {
    this.#next.set(key, next);
  }

  get size(): number {
    return this.#next.size;
  }
}

/** The key of the upstream session a token names. */
export function upstreamSessionKey(upstream: string, upstreamSessionId: string): string {
  return `${upstream}\u0000${upstreamSessionId}`;
}
