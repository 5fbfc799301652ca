import { describe, expect, it } from 'vitest';
import { ConnectionClosedError } from './errors.ts';
import { MessageQueue } from './message-queue.ts';

describe('MessageQueue', () => {
  it('delivers in order to waiting and later takers', async () => {
    const q = new MessageQueue<number>(4);
    const first = q.take();
    await q.put(1);
    await q.put(2);
    expect(await first).toBe(1);
    expect(await q.take()).toBe(2);
  });

  it('makes put wait while full', async () => {
    const q = new MessageQueue<number>(2);
    await q.put(1);
    await q.put(2);
    let third = false;
    const p = q.put(3).then(() => {
      third = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    expect(await q.take()).toBe(1);
    await p;
    expect(third).toBe(true);
    expect(q.size).toBe(2);
  });

  it('ends iteration on close and rejects waiting putters', async () => {
    const q = new MessageQueue<string>(1);
    await q.put('a');
    const blocked = q.put('b');
    const got: string[] = [];
    const iterating = (async () => {
      for await (const m of q) got.push(m);
    })();
    await blocked;
    q.close();
    await iterating;
    expect(got).toEqual(['a', 'b']);
    await expect(q.put('c')).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await q.take()).toBeUndefined();
  });

  it('rejects a putter blocked at close', async () => {
    const q = new MessageQueue<number>(1);
    await q.put(1);
    const blocked = q.put(2);
    q.close();
    await expect(blocked).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
