/**
 * Sealed tokens: AES-256-GCM with a random 96-bit nonce, the key id in the clear so any key of
 * the ring can open what the first key sealed (rotation). A token is `<keyId>.<base64url(nonce
 * | ciphertext | tag)>`; the associated data binds the key id and a purpose, so a token sealed
 * for one use (a session) is worthless for another (an event id).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SEALING_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Longest token opened at all; anything longer is rejected before any decoding. */
export const MAX_TOKEN_CHARS = 4096;
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const TOKEN = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

export interface SealingKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

/** Seals with the first key of a ring; opens with any of them. */
export class TokenSealer {
  readonly #sealWith: SealingKey;
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly SealingKey[]) {
    const first = keys[0];
    if (first === undefined) throw new RangeError('a sealing key ring needs at least one key');
    for (const k of keys) {
      if (!KEY_ID.test(k.id)) throw new RangeError(`bad sealing key id ${JSON.stringify(k.id)}`);
      if (k.key.length !== SEALING_KEY_BYTES)
        throw new RangeError(`sealing key ${k.id} is not ${SEALING_KEY_BYTES} bytes`);
    }
    this.#sealWith = first;
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The id of the key that seals. */
  get currentKeyId(): string {
    return this.#sealWith.id;
  }

  seal(plaintext: Buffer, purpose: string): string {
    const { id, key } = this.#sealWith;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(id, purpose));
    const body = Buffer.concat([
      nonce,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${id}.${body.toString('base64url')}`;
  }

  /**
   * The plaintext of a token sealed for `purpose` by a key of the ring; undefined for anything
   * else (malformed, too long, unknown key, tampered, other purpose). The cheap checks come
   * first: a forged token costs a regular expression and, at most, one decryption.
   */
  open(token: string, purpose: string): Buffer | undefined {
    if (token.length > MAX_TOKEN_CHARS) return undefined;
    const match = TOKEN.exec(token);
    const id = match?.[1];
    const key = id === undefined ? undefined : this.#keys.get(id);
    if (key === undefined || id === undefined) return undefined;
    const body = Buffer.from(match?.[2] ?? '', 'base64url');
    if (body.length < NONCE_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(associatedData(id, purpose));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      const head = decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES));
      return Buffer.concat([head, decipher.final()]);
    } catch {
      return undefined; // authentication failed
    }
  }
}

function associatedData(keyId: string, purpose: string): Buffer {
  return Buffer.from(`mcp-connect/v1\u0000${keyId}\u0000${purpose}`);
}
