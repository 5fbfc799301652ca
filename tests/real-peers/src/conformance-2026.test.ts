import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startSdkV2ModernServer } from '@mcp/test-fixtures';
import { describe, expect, it } from 'vitest';
import { startDefaultProxy } from './peers.ts';

/**
 * The conformance CLI release with the 2026-07-28 scenarios (0.2.0-alpha.12; the latest
 * release, 0.1.16, has none), run on this repository's pinned Node.
 */
const CLI = join(
  createRequire(import.meta.url).resolve('conformance-2026/package.json'),
  '../dist/index.js',
);
const SCENARIO_TIMEOUT_MS = 120_000;
/** The server scenarios of the stateless era that a proxy can pass or break. */
const SCENARIOS = ['server-stateless', 'http-header-validation', 'caching'] as const;

/** One scenario against `url`: how many checks ran, and the ids of those that failed. */
function runScenario(url: string, scenario: string): Promise<{ total: number; failed: string[] }> {
  const args = [CLI, 'server', '--url', url, '--scenario', scenario];
  args.push('--spec-version', '2026-07-28');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: SCENARIO_TIMEOUT_MS }, (error, stdout) => {
      const summary = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(stdout);
      // The CLI exits 1 when a check fails; a run with no summary is what is an error here.
      if (summary === null) return reject(new Error(`no conformance summary: ${error?.message}`));
      const failed = [...stdout.matchAll(/\[(\S+)\s*\] \S*FAILURE/g)].map((m) => m[1] as string);
      resolve({ total: Number(summary[2]), failed });
    });
  });
}

describe('the conformance suite for 2026-07-28: proxy vs the SDK v2 server (createMcpHandler)', () => {
  it.each(SCENARIOS)(
    '%s: no check fails through the proxy that passes directly',
    async (scenario) => {
      const upstream = await startSdkV2ModernServer({ legacy: 'reject' });
      const proxy = await startDefaultProxy({ url: upstream.url, h2c: false, era: '2026-07-28' });
      try {
        const direct = await runScenario(upstream.url, scenario);
        const proxied = await runScenario(`${proxy.url}/up/mcp`, scenario);
        console.info(
          `conformance 2026-07-28 ${scenario}: ${direct.total - direct.failed.length}/${direct.total} direct, ` +
            `${proxied.total - proxied.failed.length}/${proxied.total} through the proxy`,
        );
        expect(direct.total).toBeGreaterThan(0);
        expect(proxied.total).toBe(direct.total);
        expect(proxied.failed.filter((id) => !direct.failed.includes(id))).toEqual([]);
      } finally {
        await proxy.close();
        await upstream.close();
      }
    },
    300_000,
  );
});
