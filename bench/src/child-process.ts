/**
 * The parent side of a bench child: fork it (optionally under `--cpu-prof`), wait for it to be
 * ready, ask it for stats, stop it. Children exit by themselves when the parent goes away.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { PROXY_NODE_FLAGS } from 'demo-proxy/src/node-flags.ts';
import type { ChildMessage, LoadResult, ParentMessage, ProcessStats } from './ipc.ts';

const SRC = import.meta.dirname;
const READY_TIMEOUT_MS = 30_000;

export interface ChildOptions {
  /** Directory to write a `.cpuprofile` into; no profiling when undefined. */
  profileDir?: string | undefined;
  /** Name of the profile file, without extension. */
  label: string;
}

export class BenchChild {
  readonly label: string;
  readonly process: ChildProcess;
  #seq = 0;
  #exited: Promise<void>;

  constructor(script: string, args: Record<string, string | number>, options: ChildOptions) {
    this.label = options.label;
    const execArgv = ['--no-warnings', ...(script === 'proxy-ours.ts' ? PROXY_NODE_FLAGS : [])];
    if (options.profileDir !== undefined) {
      execArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${options.profileDir}`,
        `--cpu-prof-name=${options.label}.cpuprofile`,
      );
    }
    this.process = fork(
      path.join(SRC, script),
      Object.entries(args).map(([key, value]) => `--${key}=${value}`),
      { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    // A child that dies makes later IPC writes fail (EPIPE): report it, never crash the run.
    this.process.on('error', () => {});
    this.#exited = new Promise((resolve) => this.process.once('exit', () => resolve()));
  }

  /** Resolves with the first message matching `type`; rejects on exit or after `timeoutMs`. */
  next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
    accept: (message: Extract<ChildMessage, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.process.off('message', onMessage);
        this.process.off('exit', onExit);
      };
      const onMessage = (raw: unknown): void => {
        const message = raw as ChildMessage;
        if (message.type === 'failed' && type !== 'failed') {
          cleanup();
          reject(new Error(`${this.label}: ${message.error}`));
        } else if (message.type === type && accept(message as Extract<ChildMessage, { type: T }>)) {
          cleanup();
          resolve(message as Extract<ChildMessage, { type: T }>);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`${this.label} exited (code ${code}) before sending ${type}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.process.on('message', onMessage);
      this.process.once('exit', onExit);
    });
  }

  async ready(): Promise<Record<string, number>> {
    return (await this.endpoint()).ports;
  }

  /** Waits for the child to listen: its ports and, for proxies, the MCP path it serves. */
  async endpoint(): Promise<{ ports: Record<string, number>; path: string }> {
    const message = await this.next('ready', READY_TIMEOUT_MS);
    return { ports: message.ports, path: message.path ?? '/mcp' };
  }

  /** A stats snapshot; `mark` opens or closes a measured window (kept in profiles). */
  async stats(mark?: 'start' | 'end'): Promise<ProcessStats> {
    this.#seq += 1;
    const seq = this.#seq;
    this.#send(mark === undefined ? { type: 'stats', seq } : { type: 'stats', seq, mark });
    const {
      type: _type,
      seq: _seq,
      ...stats
    } = await this.next('stats', 10_000, (message) => message.seq === seq);
    return stats;
  }

  go(): void {
    this.#send({ type: 'go' });
  }

  run(): void {
    this.#send({ type: 'run' });
  }

  async result(timeoutMs: number): Promise<LoadResult> {
    return (await this.next('result', timeoutMs)).result;
  }

  #send(message: ParentMessage): void {
    if (this.process.connected) this.process.send(message, () => {});
  }

  /** Asks the child to stop, and kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.#send({ type: 'stop' });
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
