import { describe, expect, it } from 'vitest';
import { ErrorCode, UnsupportedNodeError } from './errors.ts';
import { assertSupportedNode, isSupportedNode, MIN_NODE_VERSION } from './node-version.ts';

describe('the Node.js version guard', () => {
  it('accepts the minimum and anything newer', () => {
    for (const version of [
      MIN_NODE_VERSION,
      'v22.19.0',
      '22.20.1',
      '23.0.0',
      '24.21.0',
      '30.1.2',
    ]) {
      expect(isSupportedNode(version), version).toBe(true);
    }
  });

  it('refuses anything older', () => {
    for (const version of ['20.20.2', 'v22.18.9', '22.12.0', '18.0.0', '22.9.99']) {
      expect(isSupportedNode(version), version).toBe(false);
    }
  });

  it('throws one typed error that names the version needed and the version found', () => {
    const error = (() => {
      try {
        assertSupportedNode('20.20.2');
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedNodeError);
    expect(error).toMatchObject({
      code: ErrorCode.UNSUPPORTED_NODE,
      required: MIN_NODE_VERSION,
      actual: '20.20.2',
    });
    expect((error as Error).message).toContain('Node.js >= 22.19.0; this is Node.js 20.20.2');
  });

  it('passes on the Node running these tests', () => {
    expect(() => assertSupportedNode()).not.toThrow();
  });
});
