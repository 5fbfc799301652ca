import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { callTool, openClient, outcome, startProxyFor, within } from './harness.ts';

const SERVER_MAIN = fileURLToPath(new URL('./fault-server-main.ts', import.meta.url));

/** Starts the fault server in its own process; resolves with its port once it listens. */
async function spawnUpstream(port = 0): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SERVER_MAIN, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { child, port: (JSON.parse(line.toString()) as { port: number }).port };
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
        Array.from({ length: 10 }, () => outcome(callTool(c.connection, 'slow', { ms: 3_000 }))),
      );
      await new Promise((r) => setTimeout(r, 200));
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      const ended = await within(8_000, Promise.all(inFlight), 'in-flight calls after the kill');
      for (const o of ended) expect(o.kind).not.toBe('result');

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
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await proxy.close();
    }
  });
});
