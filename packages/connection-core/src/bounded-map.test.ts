import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.ts';

describe('BoundedMap', () => {
  it('drops the oldest entry past its limit', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.size).toBe(2);
    expect(map.get('a')).toBeUndefined();
    expect([map.get('b'), map.get('c')]).toEqual([2, 3]);
  });

  it('setting a key again makes it the newest', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 10);
    map.set('c', 3);
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(10);
  });

  it('touch makes an entry the newest; get does not', () => {
    const touched = new BoundedMap<string, number>(2);
    touched.set('a', 1);
    touched.set('b', 2);
    expect(touched.touch('a')).toBe(1);
    touched.set('c', 3);
    expect(touched.get('a')).toBe(1);
    expect(touched.get('b')).toBeUndefined();

    const read = new BoundedMap<string, number>(2);
    read.set('a', 1);
    read.set('b', 2);
    expect(read.get('a')).toBe(1);
    read.set('c', 3);
    expect(read.get('a')).toBeUndefined();
    expect(read.touch('missing')).toBeUndefined();
  });

  it('deletes, and refuses a limit that is not a positive integer', () => {
    const map = new BoundedMap<number, string>(1);
    map.set(1, 'one');
    expect(map.delete(1)).toBe(true);
    expect(map.delete(1)).toBe(false);
    expect(map.size).toBe(0);
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(/positive integer/);
  });
});
