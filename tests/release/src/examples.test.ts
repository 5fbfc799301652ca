/**
 * Every file under packages/<name>/examples runs to a clean end, as the READMEs say, against the
 * demo's example upstream (the official SDK over h2c) and the proxy in front of it.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoProcess, REPO_ROOT, startDemo } from './demo-process.ts';
import { run } from './run.ts';

interface ExampleRun {
  file: string;
  args: (demo: DemoProcess) => string[];
  /** What its output must show. */
  prints: RegExp;
}

const EXAMPLES: ExampleRun[] = [
  {
    file: 'packages/connection-core/examples/parse-and-measure.ts',
    args: () => [],
    prints: /MCP_INVALID_MESSAGE \(not-json\)[\s\S]*metrics/,
  },
  {
    file: 'packages/http2/examples/list-tools.ts',
    args: (demo) => [demo.proxyUrl],
    prints: /HTTP\/1\.1\n- echo/,
  },
  {
    file: 'packages/http2/examples/list-tools.ts',
    args: (demo) => [demo.upstreamUrl, '--h2c'],
    prints: /HTTP\/2\n- echo/,
  },
  {
    file: 'packages/http2/examples/many-calls.ts',
    args: (demo) => [demo.proxyUrl, '--h2c'],
    prints: /100 of 100 calls answered\nfirst answer: .*"text":"hello 0"/,
  },
  {
    file: 'packages/pool/examples/many-sessions.ts',
    args: (demo) => [demo.proxyUrl],
    prints: /requests: 1050 ok, 0 failed, p50 \d+\.\d ms, p99 \d+\.\d ms$/m,
  },
  {
    file: 'packages/pool/examples/sessions-by-key.ts',
    args: (demo) => [demo.proxyUrl],
    prints: /same connection: true/,
  },
  {
    file: 'packages/sdk-transport/examples/one-line.ts',
    args: () => [],
    prints: /text: 'hello'/,
  },
  {
    file: 'packages/sdk-transport/examples/many-clients.ts',
    args: () => [],
    prints: /200 clients, 200 sessions/,
  },
  {
    file: 'packages/sse/examples/resumable-stream.ts',
    args: () => [],
    prints: /received 6 messages over 2 connections/,
  },
  {
    file: 'packages/sse/examples/legacy-client.ts',
    args: () => [],
    prints: /add\(2, 3\) -> .*"text":"5"/,
  },
];

function exampleFiles(): string[] {
  const root = path.join(REPO_ROOT, 'packages');
  return readdirSync(root).flatMap((name) => {
    const dir = path.join(root, name, 'examples');
    try {
      return readdirSync(dir).map((file) => `packages/${name}/examples/${file}`);
    } catch {
      return [];
    }
  });
}

describe('the examples', () => {
  let demo: DemoProcess;
  beforeAll(async () => {
    demo = await startDemo();
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('are all listed here, so none goes unrun', () => {
    expect(exampleFiles().sort()).toEqual([...new Set(EXAMPLES.map((e) => e.file))].sort());
  });

  for (const example of EXAMPLES) {
    it(`${example.file} ${example.args.length > 0 ? 'against the demo ' : ''}runs and ends`, async () => {
      const cwd = path.join(REPO_ROOT, example.file.split('/examples/')[0] as string);
      const file = path.relative(cwd, path.join(REPO_ROOT, example.file));
      const result = await run(process.execPath, [file, ...example.args(demo)], {
        cwd,
        timeoutMs: 120_000,
      });
      const output = `${result.stdout}\n--- stderr\n${result.stderr}`;
      expect(result.code, output).toBe(0);
      expect(result.stdout, output).toMatch(example.prints);
      expect(result.stderr, 'no warnings (e.g. an HTTP/2 connection header)').not.toMatch(
        /Warning/,
      );
    }, 150_000);
  }

  it('leave the demo able to stop on Ctrl-C (SIGINT) with exit 0', async () => {
    expect(await demo.stop()).toBe(0);
  });
});
