import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, type Harness, rawSession, startHarness } from './test-support.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe.each([
  { http: 'http1', what: 'HTTP/1.1' },
  { http: 'h2c', what: 'h2c' },
] as const)('the upstream GET stream follows the client ($what upstream)', ({ http }) => {
  it('holds none for sessions whose client has no GET stream open', async () => {
    harness = await startHarness({ http }, { limits: { serverStreamLingerMs: 0 } });
    const endpoint = harness.endpoint;
    await Promise.all(Array.from({ length: 10 }, () => rawSession(endpoint)));
    expect(harness.upstream.sessionCount).toBe(10);
    await harness.upstream.waitForGetStreams(0);
  });

  it('opens with the session, for clients that call before their GET stream is up', async () => {
    harness = await startHarness({ http }, { limits: { serverStreamLingerMs: 60_000 } });
    await rawSession(harness.endpoint);
    await harness.upstream.waitForGetStreams(1);
  });

  it("opens with the client's GET, carries server messages, and closes after the client's closes", async () => {
    harness = await startHarness({ http }, { limits: { serverStreamLingerMs: 0 } });
    const first = await connectClient(harness.endpoint);
    const second = await connectClient(harness.endpoint);
    await harness.upstream.waitForGetStreams(2);

    const changed = new Promise<void>((resolve) =>
      first.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
    );
    await harness.upstream.broadcast('notifications/tools/list_changed', {});
    await changed;

    // The SDK's close() aborts its GET stream and sends no DELETE.
    await first.close();
    await harness.upstream.waitForGetStreams(1);
    await second.close();
    await harness.upstream.waitForGetStreams(0);
    expect(harness.upstream.sessionCount).toBe(2);
  });
});
