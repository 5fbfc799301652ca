import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startConformanceServer } from '@mcp/test-fixtures';
import { describe, expect, it } from 'vitest';
import { startDefaultProxy } from './peers.ts';

/** The conformance CLI, run on this repository's pinned Node. */
const CLI = join(
  createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'),
  '../dist/index.js',
);
/** Bounds one run of the whole suite (a hang fails instead of holding CI). */
const SUITE_TIMEOUT_MS = 150_000;

/**
 * Runs every server scenario, pending ones included (`--suite all`), against `url` and reads
 * the CLI's summary: the scenarios that passed (every check passed, none failed), of how many.
 */
function runSuite(url: string): Promise<{ passed: string[]; total: number }> {
  return new Promise((resolve, reject) => {
    const args = [CLI, 'server', '--url', url, '--suite', 'all'];
    execFile(process.execPath, args, { timeout: SUITE_TIMEOUT_MS }, (error, stdout) => {
      const lines = [...stdout.matchAll(/^([✓✗]) (\S+): \d+ passed, (\d+) failed$/gm)];
      // The CLI exits 1 when a scenario fails; a run with no summary is what is an error here.
      if (lines.length === 0) reject(new Error(`no conformance summary: ${error?.message}`));
      const passed = lines.filter(([, mark, , failed]) => mark === '✓' && failed === '0');
      resolve({ passed: passed.map(([, , name]) => name as string), total: lines.length });
    });
  });
}

describe.each(['sse', 'json'] as const)(
  'the official conformance suite: proxy (default settings) vs the SDK upstream on HTTP/1.1 (%s answers)',
  (mode) => {
    it('passes every server scenario the upstream passes directly', async () => {
      const upstream = await startConformanceServer(mode);
      const proxy = await startDefaultProxy({ url: upstream.url, h2c: false });
      try {
        // One after the other: two suites at once on a 2-core box time each other out.
        const direct = await runSuite(upstream.url);
        const proxied = await runSuite(`${proxy.url}/up/mcp`);
        console.info(
          `conformance (${mode}): ${direct.passed.length}/${direct.total} direct, ` +
            `${proxied.passed.length}/${proxied.total} through the proxy`,
        );
        expect(direct.total).toBeGreaterThanOrEqual(32);
        expect(proxied.total).toBe(direct.total);
        // As many as directly: every scenario the upstream passes also passes through the proxy.
        expect(direct.passed.filter((name) => !proxied.passed.includes(name))).toEqual([]);
      } finally {
        await proxy.close();
        await upstream.close();
      }
    }, 200_000);
  },
);
