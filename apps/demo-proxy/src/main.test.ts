import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIALIZE, MCP_HEADERS, raw } from './test-support.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout JSON log line whose msg is `msg`. */
async function logLine(child: ChildProcess, msg: string): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === msg) return entry;
  }
  throw new Error(`process ended before logging "${msg}"`);
}

describe('main (the start script)', () => {
  let dir: string;
  let upstream: SdkServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-proxy-main-'));
    upstream = await startSdkServer({ http: 'h2c' });
  });
  afterAll(async () => {
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails fast on a bad config, naming the field (exit 2)', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(
      path,
      JSON.stringify({ upstreams: [{ name: 'x', url: 'http://h/mcp', h2c: 'yes' }] }),
    );
    const child = run(['--config', path]);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('upstreams.0.h2c');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'serves with --port over PORT and exits 0 on %s after draining',
    async (signal) => {
      const path = join(dir, 'proxy.yaml');
      await writeFile(
        path,
        `listen:\n  port: 1\nupstreams:\n  - name: example\n    url: ${upstream.url}\n    h2c: true\n`,
      );
      const child = run(['--config', path, '--port', '0'], { PORT: '2' });
      const listening = await logLine(child, 'proxy listening');
      const url = String(listening.url);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url.endsWith(':1') || url.endsWith(':2')).toBe(false);
      const init = await raw(`${url}/example/mcp`, {
        headers: MCP_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      expect(init.status).toBe(200);
      expect(upstream.sessionCount).toBe(1);
      const stopping = logLine(child, 'shutting down');
      child.kill(signal);
      expect(await stopping).toMatchObject({ signal });
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(upstream.sessionCount).toBe(0); // the upstream session was ended
    },
  );
});
