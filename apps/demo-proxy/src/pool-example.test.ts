import type { JsonRpcRequest } from '@mcp/connection-core';
import { OriginPool } from '@mcp/pool';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, INITIALIZE, startHarness } from './test-support.ts';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('the @mcp/pool README example against the proxy', () => {
  it('ends its session right after notifications/initialized without an unhandled error, 10 times', async () => {
    harness = await startHarness();
    const endpoint = harness.endpoint;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 10; i++) {
        // The README's steps: the GET stream is still opening when `await using` closes it.
        await using pool = new OriginPool({ h2c: [new URL(endpoint).origin] });
        const alice = await pool.connection(endpoint, { key: 'alice' });
        await alice.request(INITIALIZE as JsonRpcRequest);
        await alice.notify({ jsonrpc: '2.0', method: 'notifications/initialized' });
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });
});
