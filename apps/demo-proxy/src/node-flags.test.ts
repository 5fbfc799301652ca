/**
 * The proxy really runs with PROXY_NODE_FLAGS wherever it is started: each start below is a real
 * process, which reports its own `process.execArgv` in its `proxy listening` log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stopChild } from './cluster/processes.ts';
import { newSealingSecret, startReplica } from './cluster/replicas.ts';
import { PROXY_NODE_FLAGS } from './node-flags.ts';

const APP = new URL('..', import.meta.url).pathname;
const REPO = new URL('../../..', import.meta.url).pathname;
/** No upstream listens here; the proxy starts all the same (it connects on demand). */
const UPSTREAM = 'http://127.0.0.1:9/mcp';

interface LogEntry {
  msg?: string;
  nodeFlags?: string[];
  missing?: string[];
}

/** The log lines up to `proxy listening` (inclusive). */
async function linesUntilListening(child: ChildProcess): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    const entry = JSON.parse(line) as LogEntry;
    entries.push(entry);
    if (entry.msg === 'proxy listening') return entries;
  }
  throw new Error(`the proxy exited before listening: ${JSON.stringify(entries)}`);
}

describe('the proxy node flags', () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-proxy-flags-'));
    config = join(dir, 'proxy.yaml');
    await writeFile(config, `upstreams:\n  - name: example\n    url: ${UPSTREAM}\n    h2c: true\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `argv` (its `node` replaced by this Node) until the proxy listens; then stops it. */
  async function started(argv: string[]): Promise<LogEntry[]> {
    const [command, ...args] = argv;
    expect(command).toBe('node');
    const child = spawn(process.execPath, [...args, '--config', config, '--port', '0'], {
      cwd: APP,
      env: { ...process.env, LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      return await linesUntilListening(child);
    } finally {
      await stopChild(child, 'SIGTERM');
    }
  }

  it('pnpm start runs main.ts with them', async () => {
    const pkg = JSON.parse(await readFile(join(APP, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const entries = await started((pkg.scripts.start ?? '').split(' '));
    const listening = entries.at(-1);
    for (const flag of PROXY_NODE_FLAGS) expect(listening?.nodeFlags).toContain(flag);
    expect(entries.filter((e) => e.missing !== undefined)).toEqual([]);
  });

  it('a proxy started without them says which are missing', async () => {
    const entries = await started(['node', 'src/main.ts']);
    expect(entries.find((e) => e.missing !== undefined)?.missing).toEqual([...PROXY_NODE_FLAGS]);
  });

  it('the cluster replicas run with them', async () => {
    const replica = await startReplica({ upstreamUrl: UPSTREAM, keys: [newSealingSecret('k1')] });
    try {
      for (const flag of PROXY_NODE_FLAGS) expect(replica.nodeFlags).toContain(flag);
    } finally {
      await replica.stop();
    }
  });

  it('the Kubernetes manifest starts the proxy with them', async () => {
    const manifest = await readFile(join(REPO, 'deploy/kubernetes/deployment.yaml'), 'utf8');
    const deployment = parse(manifest) as {
      spec: { template: { spec: { containers: { name: string; command: string[] }[] } } };
    };
    const proxy = deployment.spec.template.spec.containers.find((c) => c.name === 'proxy');
    const command = proxy?.command ?? [];
    const main = command.indexOf('apps/demo-proxy/src/main.ts');
    expect(main).toBeGreaterThan(0);
    for (const flag of PROXY_NODE_FLAGS) expect(command.slice(1, main)).toContain(flag);
  });
});
