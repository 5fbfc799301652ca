import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_CHARS, type SealingKey, TokenSealer } from './sealing.ts';

const k1: SealingKey = { id: 'k1', key: randomBytes(32) };
const k2: SealingKey = { id: 'k2', key: randomBytes(32) };
const plain = Buffer.from('{"u":"example","s":"abc"}');

describe('TokenSealer', () => {
  it('opens what it sealed, with the key id in the clear and nothing else readable', () => {
    const sealer = new TokenSealer([k1]);
    const token = sealer.seal(plain, 'session');
    expect(token.startsWith('k1.')).toBe(true);
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(token).not.toContain(Buffer.from('example').toString('base64url'));
    expect(sealer.open(token, 'session')?.toString()).toBe(plain.toString());
    // A fresh nonce each time: the same plaintext never gives the same token.
    expect(sealer.seal(plain, 'session')).not.toBe(token);
  });

  it('rejects a token sealed for another purpose', () => {
    const sealer = new TokenSealer([k1]);
    expect(sealer.open(sealer.seal(plain, 'event'), 'session')).toBeUndefined();
  });

  it('rejects every single-character change of a token', () => {
    const sealer = new TokenSealer([k1]);
    const token = sealer.seal(plain, 'session');
    const alphabet = 'AQgw';
    let rejected = 0;
    for (let i = 3; i < token.length; i++) {
      const c = token[i] === alphabet[i % 4] ? alphabet[(i + 1) % 4] : alphabet[i % 4];
      const tampered = `${token.slice(0, i)}${c}${token.slice(i + 1)}`;
      if (sealer.open(tampered, 'session') === undefined) rejected++;
    }
    expect(rejected).toBe(token.length - 3);
  });

  it('rejects foreign keys, unknown key ids, malformed and oversized tokens', () => {
    const ours = new TokenSealer([k1]);
    const foreign = new TokenSealer([{ id: 'k1', key: randomBytes(32) }]);
    expect(ours.open(foreign.seal(plain, 'session'), 'session')).toBeUndefined();
    expect(ours.open(new TokenSealer([k2]).seal(plain, 'session'), 'session')).toBeUndefined();
    for (const bad of ['', 'k1', 'k1.', 'k1.AAAA', '.abc', 'k1.a b', 'k1.abc.def', '💥.abc']) {
      expect(ours.open(bad, 'session')).toBeUndefined();
    }
    expect(ours.open(`k1.${'A'.repeat(MAX_TOKEN_CHARS)}`, 'session')).toBeUndefined();
  });

  it('rotates: a ring [k2, k1] seals with k2 and still opens k1 tokens', () => {
    const old = new TokenSealer([k1]).seal(plain, 'session');
    const rotated = new TokenSealer([k2, k1]);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.open(old, 'session')?.toString()).toBe(plain.toString());
    expect(rotated.seal(plain, 'session').startsWith('k2.')).toBe(true);
    // Once k1 is retired, its tokens are refused.
    expect(new TokenSealer([k2]).open(old, 'session')).toBeUndefined();
  });

  it('refuses a ring that is empty, or has a key of the wrong size or a bad id', () => {
    expect(() => new TokenSealer([])).toThrow(RangeError);
    expect(() => new TokenSealer([{ id: 'k', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => new TokenSealer([{ id: 'a.b', key: randomBytes(32) }])).toThrow(/key id/);
  });
});
