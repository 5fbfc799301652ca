import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidOptionsError } from './errors.ts';
import { parseOptions } from './options.ts';

describe('parseOptions', () => {
  const schema = z.object({ url: z.url(), limits: z.object({ max: z.number().int().positive() }) });

  it('returns the parsed value', () => {
    expect(parseOptions(schema, { url: 'http://a/', limits: { max: 1 } }, 'options')).toEqual({
      url: 'http://a/',
      limits: { max: 1 },
    });
  });

  it('throws InvalidOptionsError naming each bad option', () => {
    try {
      parseOptions(schema, { url: 'nope', limits: { max: -1 } }, 'pool options');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidOptionsError);
      const e = err as InvalidOptionsError;
      expect(e.issues.map((i) => i.path)).toEqual(['url', 'limits.max']);
      expect(e.message).toMatch(/^Invalid pool options: url: .*; limits\.max: /);
    }
  });
});
