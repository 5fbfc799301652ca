/**
 * A child process for the abort-churn tests: POSTs bodies larger than an HTTP/2 stream's
 * initial window (so part of each body is still waiting to go out) to an h2c server, and aborts
 * each request on the next `setImmediate`, for `--ms` milliseconds. Prints `beat <rss MB>`
 * every 100 ms while its event loop turns, and `done` at the end.
 *
 *   node test/abort-churn.ts undici|library [--ms N] [--bytes N] [--concurrency N]
 *   node test/abort-churn.ts serve      (the server, started by the above as its own child)
 *
 * The server runs in a process of its own: under this churn, Node's HTTP/2 server side can
 * stall its process too, and the client is what is on trial here.
 * `undici`: the bare pattern with an undici Pool (the upstream bug: undici resets the stream with
 * NO_ERROR and destroys it while its body is pending; nghttp2 then spins). `library`: the same
 * requests through an @mcp/http2 connection, which must never freeze.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { McpConnectionError } from '@mcp/connection-core';
import { Pool } from 'undici';
import { createHttp2Connection } from '../src/index.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    ms: { type: 'string', default: '3000' },
    bytes: { type: 'string', default: String(96 * 1024) },
    concurrency: { type: 'string', default: '8' },
  },
});
const mode = positionals[0];
const durationMs = Number(values.ms);
const bodyBytes = Number(values.bytes);
const concurrency = Number(values.concurrency);

/** Answers each POST with a JSON-RPC result once its whole body has arrived. */
function serve(): void {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (stream.closed) return;
      let id: unknown = null;
      try {
        id = (JSON.parse(Buffer.concat(chunks).toString()) as { id?: unknown }).id ?? null;
      } catch {}
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ jsonrpc: '2.0', id, result: {} }));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    console.log(`port ${(server.address() as AddressInfo).port}`);
  });
  process.on('disconnect', () => process.exit(0));
}

/** Starts the server process; resolves with its origin and a way to stop it. */
async function startServerProcess(): Promise<{ origin: string; stop(): void }> {
  const child = spawn(process.execPath, [import.meta.filename, 'serve'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, 'line')) as [string];
  return { origin: `http://127.0.0.1:${line.slice('port '.length)}`, stop: () => child.kill() };
}

async function churn(): Promise<void> {
  if (mode !== 'undici' && mode !== 'library') throw new Error('mode: undici, library or serve');
  const server = await startServerProcess();
  const heartbeat = setInterval(() => {
    console.log(`beat ${Math.round(process.memoryUsage().rss / 1e6)}`);
  }, 100);
  const until = performance.now() + durationMs;
  const close =
    mode === 'undici'
      ? await churnUndici(server.origin, until)
      : await churnLibrary(server.origin, until);
  await close();
  clearInterval(heartbeat);
  server.stop();
  console.log('done');
}

const padding = 'x'.repeat(bodyBytes);
let nextId = 1;

function abortSoon(): AbortSignal {
  const controller = new AbortController();
  setImmediate(() => controller.abort());
  return controller.signal;
}

async function churnUndici(origin: string, until: number): Promise<() => Promise<void>> {
  const pool = new Pool(origin, { connections: 1, allowH2: true, useH2c: true } as Pool.Options);
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'x',
        params: { padding },
      });
      try {
        const res = await pool.request({
          origin,
          path: '/',
          method: 'POST',
          body,
          signal: abortSoon(),
        });
        await res.body.dump();
      } catch {}
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return () => pool.close();
}

async function churnLibrary(origin: string, until: number): Promise<() => Promise<void>> {
  const connection = createHttp2Connection({
    url: `${origin}/mcp`,
    h2c: true,
    serverStream: false,
  });
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const message = { jsonrpc: '2.0' as const, id: nextId++, method: 'x', params: { padding } };
      await connection.request(message, { signal: abortSoon() }).catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // A request that is not aborted still gets its answer on the same connection. Node's server
  // ends its session under this churn now and then (GOAWAY INTERNAL_ERROR, about one run in
  // ten); the request then fails as retryable, and once more must succeed on a new session.
  const lastRequest = () =>
    connection.request({ jsonrpc: '2.0', id: nextId++, method: 'x', params: { padding } });
  const last = await lastRequest().catch((error: unknown) => {
    if (error instanceof McpConnectionError && error.retryable) return lastRequest();
    throw error;
  });
  if (!('result' in last)) throw new Error('the last request got no result');
  return () => connection.close();
}

if (mode === 'serve') {
  serve();
} else {
  await churn();
}
