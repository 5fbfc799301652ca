import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  callTool,
  nextServerMessage,
  openClient,
  outcome,
  startProxyFor,
  within,
} from './harness.ts';

const SERVER_MAIN = fileURLToPath(new URL('./fault-server-main.ts', import.meta.url));

interface Upstream {
  child: ChildProcess;
  port: number;
  /** The process's stdout, one JSON object a line. */
  lines: AsyncIterator<string>;
}

/** Starts the fault server in its own process; resolves with its port once it listens. */
async function spawnUpstream(port = 0): Promise<Upstream> {
  const child = spawn(process.execPath, [SERVER_MAIN, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const reader: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const lines = reader[Symbol.asyncIterator]();
  const first = await within(10_000, lines.next(), 'the upstream process did not start');
  return { child, port: (JSON.parse(String(first.value)) as { port: number }).port, lines };
}

/** Reads the process's lines until it reports `count` held calls. */
async function heldCalls(upstream: Upstream, count: number): Promise<void> {
  for (;;) {
    const line = await upstream.lines.next();
    if (line.done) throw new Error('the upstream process ended');
    if ((JSON.parse(line.value) as { held?: number }).held === count) return;
  }
}

describe('upstream process killed and restarted', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('in-flight calls end with errors; the same downstream sessions work after the restart', async () => {
    const first = await spawnUpstream();
    children.push(first.child);
    const { proxy, endpoint } = await startProxyFor(`http://127.0.0.1:${first.port}/mcp`, {
      limits: { requestTimeoutMs: 5_000 },
    });
    const clients = await Promise.all(Array.from({ length: 3 }, () => openClient(endpoint)));
    try {
      const inFlight = clients.flatMap((c) =>
        Array.from({ length: 10 }, () => outcome(callTool(c.connection, 'hold'))),
      );
      await within(10_000, heldCalls(first, 30), '30 calls held by the upstream');
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      const ended = await within(8_000, Promise.all(inFlight), 'in-flight calls after the kill');
      for (const o of ended) expect(o).toEqual({ kind: 'typed-error', code: 'MCP_HTTP_STATUS' });

      // The new process knows none of the old sessions: the proxy must re-initialize upstream.
      const second = await spawnUpstream(first.port);
      children.push(second.child);
      const after = await within(
        10_000,
        Promise.all(
          clients.map((c, i) => outcome(callTool(c.connection, 'echo', { text: `back${i}` }))),
        ),
        'calls after the restart',
      );
      expect(after).toEqual(clients.map((_, i) => ({ kind: 'result', text: `back${i}` })));
      // The client's GET stream (kept open through all this) relays from the new process.
      const client = clients[0];
      if (!client) throw new Error('no client');
      const received = nextServerMessage(client, 'a notification from the restarted upstream');
      expect(await outcome(callTool(client.connection, 'notify', { text: 'new' }))).toEqual({
        kind: 'result',
        text: 'sent',
      });
      expect(await received).toMatchObject({ params: { data: 'new' } });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await proxy.close();
    }
  });
});
