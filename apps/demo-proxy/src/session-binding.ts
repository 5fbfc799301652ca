/**
 * Who a request comes from, as far as sessions are concerned: the hash of its binding header
 * (Authorization unless configured otherwise) and, for the per-client quota, a key naming the
 * client by that hash or, when it sends no credentials, by its IP address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type DownstreamRequest, header } from './http-types.ts';

export interface ClientIdentity {
  /** SHA-256 of the binding header's value; undefined when the request carries none. */
  readonly credentials: Buffer | undefined;
  /** The quota key: `cred:<hash prefix>` or `ip:<address>`. Never the credential itself. */
  readonly key: string;
  /** The client's IP address (the peer's, or the one a trusted proxy forwarded). */
  readonly address: string;
}

/** Reads the identity of `req` from its `bindingHeader` (a lowercase name). */
export function clientIdentity(
  req: DownstreamRequest,
  bindingHeader: string,
  address: string,
): ClientIdentity {
  const value = header(req.headers, bindingHeader);
  if (value === undefined || value === '') {
    return { credentials: undefined, key: `ip:${address}`, address };
  }
  const credentials = createHash('sha256').update(value).digest();
  return { credentials, key: `cred:${credentials.toString('hex', 0, 16)}`, address };
}

/**
 * True when a request of `identity` may use a session created by `owner`. A session created
 * with credentials answers only the same credentials (constant-time comparison of the hashes);
 * a session created without any answers only requests without any, so a token never reaches a
 * session that was opened anonymously.
 */
export function sameCredentials(owner: ClientIdentity, identity: ClientIdentity): boolean {
  const a = owner.credentials;
  const b = identity.credentials;
  if (a === undefined || b === undefined) return a === b;
  return timingSafeEqual(a, b);
}

/** Sessions held per client key, bounded by `limit`. */
export class ClientQuotas {
  readonly limit: number;
  #held = new Map<string, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes one slot for `key` (callers check `heldBy(key) < limit` first). */
  acquire(key: string): void {
    this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const held = (this.#held.get(key) ?? 1) - 1;
    if (held <= 0) this.#held.delete(key);
    else this.#held.set(key, held);
  }

  /** Slots held by `key`. */
  heldBy(key: string): number {
    return this.#held.get(key) ?? 0;
  }
}
