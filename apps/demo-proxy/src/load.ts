/**
 * Load generator: opens N sessions to an MCP endpoint (through the proxy), sends R `tools/call`
 * requests spread over them with C in flight, shows a progress bar on a TTY, and prints a
 * summary: requests per second, p50/p99 latency, errors, and how many upstream TCP connections
 * carried it (read from the proxy's /metrics).
 *
 *   node src/load.ts --url http://127.0.0.1:8080/example/mcp --sessions 50 --requests 1000 --concurrency 100
 */
import { parseArgs } from 'node:util';
import { initializeMessage } from '@mcp/test-fixtures';
import { Agent, request } from 'undici';
import { scriptArgs } from './cli-args.ts';

export interface LoadOptions {
  url: string;
  sessions: number;
  requests: number;
  concurrency: number;
  /** Speak cleartext HTTP/2 to the proxy instead of HTTP/1.1. */
  h2c: boolean;
  tool: string;
  arguments: Record<string, unknown>;
  /** Called after each request with (done, total); for a progress display. */
  onProgress?: (done: number, total: number) => void;
}

export interface LoadResult {
  requests: number;
  errors: number;
  errorKinds: Record<string, number>;
  durationMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Upstream TCP connections open at the end, per the proxy's /metrics (undefined if unread). */
  upstreamConnections: number | undefined;
  /** Proxy sessions at the end (before this run's sessions were deleted). */
  proxySessions: number | undefined;
}

const PROTOCOL_VERSION = '2025-11-25';

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** Sums the samples of one metric in Prometheus text. */
export function sumMetric(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) sum = (sum ?? 0) + value;
    }
  }
  return sum;
}

/** Runs the load; resolves with the figures. Every session it opens is deleted at the end. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const dispatcher = new Agent({
    connections: options.h2c ? 2 : options.concurrency,
    pipelining: 1,
    ...(options.h2c ? { allowH2: true, useH2c: true } : {}),
  } as ConstructorParameters<typeof Agent>[0]);
  const errorKinds: Record<string, number> = {};
  const countError = (kind: string): void => {
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  async function post(body: unknown, sessionId?: string) {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': PROTOCOL_VERSION,
    };
    if (sessionId) headers['mcp-session-id'] = sessionId;
    const res = await request(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      dispatcher,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  /** Opens one session; a failed initialize counts as an error and leaves the session out. */
  async function openSession(): Promise<string | undefined> {
    try {
      const init = await post(
        initializeMessage({
          protocolVersion: PROTOCOL_VERSION,
          clientInfo: { name: 'demo-proxy-load', version: '1.0.0' },
        }),
      );
      const id = init.headers['mcp-session-id'];
      if (init.status !== 200 || typeof id !== 'string') {
        countError(`initialize: HTTP ${init.status}`);
        return undefined;
      }
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, id);
      return id;
    } catch (err) {
      countError(`initialize: ${(err as { code?: string }).code ?? 'network'}`);
      return undefined;
    }
  }

  try {
    const opened = await Promise.all(Array.from({ length: options.sessions }, openSession));
    const sessionIds = opened.filter((id): id is string => id !== undefined);
    const failedInitializes = options.sessions - sessionIds.length;
    if (sessionIds.length === 0) {
      throw new Error(
        `no session opened: ${options.sessions} initialize calls failed ${JSON.stringify(errorKinds)}`,
      );
    }

    const latencies: number[] = [];
    let next = 0;
    let done = 0;
    let errors = failedInitializes;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      for (;;) {
        const n = next++;
        if (n >= options.requests) return;
        const sessionId = sessionIds[n % sessionIds.length] as string;
        const t0 = performance.now();
        try {
          const res = await post(
            {
              jsonrpc: '2.0',
              id: n + 1,
              method: 'tools/call',
              params: { name: options.tool, arguments: options.arguments },
            },
            sessionId,
          );
          if (res.status !== 200) {
            errors++;
            countError(`HTTP ${res.status}`);
          } else if (res.text.includes('"error"')) {
            errors++;
            countError('JSON-RPC error');
          }
        } catch (err) {
          errors++;
          countError((err as { code?: string }).code ?? 'network');
        }
        latencies.push(performance.now() - t0);
        done++;
        options.onProgress?.(done, options.requests);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, options.requests) }, worker),
    );
    const durationMs = performance.now() - started;

    let upstreamConnections: number | undefined;
    let proxySessions: number | undefined;
    try {
      const metrics = await request(new URL('/metrics', url), { dispatcher });
      const text = await metrics.body.text();
      upstreamConnections = sumMetric(text, 'mcp_proxy_upstream_connections');
      proxySessions = sumMetric(text, 'mcp_proxy_sessions');
    } catch {
      // Not a demo-proxy (or /metrics unreachable): leave the figures out.
    }

    await Promise.allSettled(
      sessionIds.map(async (id) => {
        const res = await request(url, {
          method: 'DELETE',
          headers: { 'mcp-session-id': id },
          dispatcher,
        });
        await res.body.dump();
      }),
    );

    latencies.sort((a, b) => a - b);
    return {
      requests: options.requests,
      errors,
      errorKinds,
      durationMs,
      requestsPerSecond: (options.requests / durationMs) * 1000,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? 0,
      upstreamConnections,
      proxySessions,
    };
  } finally {
    await dispatcher.close();
  }
}

/** A progress bar on stderr, redrawn at most every 100 ms. */
function progressBar(): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 40;
    const filled = Math.round((done / total) * width);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${Math.round((done / total) * 100)}%`,
    );
    if (done === total) process.stderr.write('\n');
  };
}

export function formatSummary(options: LoadOptions, r: LoadResult): string {
  const rows: Array<[string, string]> = [
    ['url', options.url],
    ['sessions', String(options.sessions)],
    ['requests', String(r.requests)],
    ['concurrency', String(options.concurrency)],
    ['downstream protocol', options.h2c ? 'HTTP/2 (h2c)' : 'HTTP/1.1'],
    ['duration', `${(r.durationMs / 1000).toFixed(2)} s`],
    ['requests/s', r.requestsPerSecond.toFixed(0)],
    ['p50', `${r.p50Ms.toFixed(1)} ms`],
    ['p99', `${r.p99Ms.toFixed(1)} ms`],
    ['max', `${r.maxMs.toFixed(1)} ms`],
    ['errors', r.errors === 0 ? '0' : `${r.errors} ${JSON.stringify(r.errorKinds)}`],
    [
      'upstream TCP connections',
      r.upstreamConnections === undefined ? 'n/a (no /metrics)' : String(r.upstreamConnections),
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: scriptArgs(),
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080/example/mcp' },
      sessions: { type: 'string', default: '50' },
      requests: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '100' },
      h2c: { type: 'boolean', default: false },
      tool: { type: 'string', default: 'echo' },
      args: { type: 'string', default: '{"text":"hello"}' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: load [--url URL] [--sessions N] [--requests N] [--concurrency N] [--h2c] [--tool NAME] [--args JSON]',
    );
    return;
  }
  const options: LoadOptions = {
    url: values.url,
    sessions: Number(values.sessions),
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    h2c: values.h2c,
    tool: values.tool,
    arguments: JSON.parse(values.args) as Record<string, unknown>,
  };
  for (const key of ['sessions', 'requests', 'concurrency'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) {
      throw new Error(`--${key} must be a positive integer`);
    }
  }
  if (process.stderr.isTTY) options.onProgress = progressBar();
  const result = await runLoad(options);
  console.log(formatSummary(options, result));
  if (result.errors > 0) process.exitCode = 1;
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
