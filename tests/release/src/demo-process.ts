/**
 * The demo (`apps/demo-proxy/src/demo.ts`) as a child process on a port the OS picks: the
 * README's example upstream and the proxy in front of it, for examples to run against.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO = fileURLToPath(new URL('../../../apps/demo-proxy/src/demo.ts', import.meta.url));

export interface DemoProcess {
  /** The example upstream's MCP endpoint (the official SDK over h2c). */
  readonly upstreamUrl: string;
  /** The proxy's endpoint for it, `http://127.0.0.1:PORT/example/mcp`. */
  readonly proxyUrl: string;
  /** What it printed on stderr up to its URLs: the banner with the commands it suggests. */
  readonly banner: string;
  /** Stops it with SIGINT (Ctrl-C) and resolves with its exit code. */
  stop(): Promise<number | null>;
}

const UPSTREAM_LINE = /example upstream \(MCP SDK over h2c\): (\S+)/;
const PROXY_LINE = /proxy \(HTTP\/1\.1 \+ h2c on one port\): +(\S+)/;
const BANNER_END = 'Ctrl-C stops';

function waitForUrls(child: ChildProcess, timeoutMs: number): Promise<[string, string, string]> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`the demo ${why}; its stderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`printed no URLs in ${timeoutMs} ms`), timeoutMs);
    child.once('exit', (code) => fail(`exited ${code} before printing its URLs`));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const upstream = UPSTREAM_LINE.exec(stderr)?.[1];
      const proxy = PROXY_LINE.exec(stderr)?.[1];
      if (upstream === undefined || proxy === undefined || !stderr.includes(BANNER_END)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve([upstream, proxy, stderr]);
    });
  });
}

/** Starts the demo with `node` (the repo's pinned Node when run from a pnpm script). */
export async function startDemo(timeoutMs = 30_000): Promise<DemoProcess> {
  const child = spawn(process.execPath, [DEMO, '--port', '0', '--upstream-port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const [upstreamUrl, proxyUrl, banner] = await waitForUrls(child, timeoutMs).catch(
    (err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    },
  );
  return {
    upstreamUrl,
    proxyUrl,
    banner,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
