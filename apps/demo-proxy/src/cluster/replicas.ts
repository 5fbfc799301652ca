/**
 * Proxy replicas as separate processes (`main.ts --config`), sharing sealing keys: what runs
 * behind nginx in the cluster test, `demo:cluster` and the replicas bench. Secrets go to each
 * replica in its environment; its config file holds only the variables' names.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ProxyConfigInput } from '../config.ts';
import { PROXY_NODE_FLAGS } from '../node-flags.ts';
import { stopChild } from './processes.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

export interface SealingSecret {
  id: string;
  /** base64 of 32 bytes. */
  secret: string;
}

/** A fresh key: `{ id, secret }` with 32 random bytes. */
export function newSealingSecret(id: string): SealingSecret {
  return { id, secret: randomBytes(32).toString('base64') };
}

export interface ReplicaOptions {
  /** The upstream MCP endpoint, served at /example/mcp. */
  upstreamUrl: string;
  h2c?: boolean;
  /** The key ring, the sealing key first. */
  keys: readonly SealingSecret[];
  /** 0: a free port. */
  port?: number;
  /** More config (limits, sessions, ...) on top of the cluster's. */
  config?: Partial<ProxyConfigInput>;
  logLevel?: string;
}

export interface Replica {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** The node flags the replica reports it runs with (its `process.execArgv`). */
  readonly nodeFlags: readonly string[];
  /** kill -9: no drain, no goodbye. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM: drains, then exits. Resolves once it is gone. */
  stop(): Promise<void>;
}

/** Starts one replica; resolves once it listens. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-replica-'));
  const env: Record<string, string> = { ...process.env, LOG_FORMAT: 'json' } as Record<
    string,
    string
  >;
  const sealingKeys = options.keys.map((k) => {
    const name = `MCP_SEALING_KEY_${k.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    env[name] = k.secret;
    return { id: k.id, secretEnv: name };
  });
  const config = {
    // nginx runs on this host: the client it names in X-Forwarded-For is the one that counts.
    listen: { host: '127.0.0.1', port: options.port ?? 0, realIpFrom: ['127.0.0.1'] },
    upstreams: [{ name: 'example', url: options.upstreamUrl, h2c: options.h2c ?? true }],
    logLevel: options.logLevel ?? 'info',
    ...options.config,
    sessions: { ...options.config?.sessions, sealingKeys },
  };
  const path = join(dir, 'proxy.json');
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [...PROXY_NODE_FLAGS, MAIN, '--config', path], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.once('exit', () => void rm(dir, { recursive: true, force: true }).catch(() => {}));
  const { url, nodeFlags } = await listening(child);
  const port = Number(new URL(url).port);
  return {
    pid: child.pid ?? 0,
    port,
    url,
    child,
    nodeFlags,
    kill: () => stopChild(child, 'SIGKILL'),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

/** The replica's `proxy listening` log line (URL, node flags); its stdout is read to the end. */
function listening(child: ChildProcess): Promise<{ url: string; nodeFlags: string[] }> {
  return new Promise((resolve, reject) => {
    let listened = false;
    const onExit = (code: number | null): void =>
      reject(new Error(`the replica exited (${code}) before it listened`));
    child.once('exit', onExit);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (listened) return;
      let entry: { msg?: string; url?: string; nodeFlags?: string[] };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg !== 'proxy listening' || entry.url === undefined) return;
      listened = true;
      child.off('exit', onExit);
      resolve({ url: entry.url, nodeFlags: entry.nodeFlags ?? [] });
    });
  });
}
