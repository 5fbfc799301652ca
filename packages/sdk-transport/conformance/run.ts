// Runs every client scenario of the official conformance suite twice, one at a time: the SDK v1
// Client over its own StreamableHTTPClientTransport, then over ConnectionTransport. Prints each
// scenario's result and the pass counts, writes them to conformance/results.json, and exits 1
// when a scenario passes with the SDK's transport and fails with ours.
//   pnpm --filter @mcp/sdk-transport conformance
// With --recorded-sdk (CI), only ours runs, compared with the SDK results in results.json
// (recorded by a full run with the same pinned suite), which halves the time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../node_modules/@modelcontextprotocol/conformance/dist/index.js');
const client = join(here, 'client.ts');
/** A scenario's client gets this long (ms): the suite's default (30 s) is short on a loaded box. */
const SCENARIO_TIMEOUT_MS = 60_000;
const KINDS = ['sdk', 'ours'] as const;
type Kind = (typeof KINDS)[number];

interface Outcome {
  passed: boolean;
  checks: number;
  /** The ids of the checks that failed (or a note when no result was written). */
  failed: string[];
}

function conformance(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const run = spawnSync(process.execPath, [cli, ...args], {
    env,
    encoding: 'utf8',
    timeout: SCENARIO_TIMEOUT_MS + 30_000,
  });
  return `${run.stdout}${run.stderr}`;
}

/** The client scenarios the installed suite offers. */
function clientScenarios(): string[] {
  const section = conformance(['list']).split('Client scenarios')[1] ?? '';
  return [...section.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1] as string);
}

/**
 * Runs one scenario and reads its checks.json: it passes when no check is a FAILURE. A run that
 * wrote no result at all (the suite itself failed or ran out of time, as on a loaded machine)
 * is tried once more before it counts as failed.
 */
function runScenario(kind: Kind, scenario: string, out: string, attempt = 1): Outcome {
  const dir = join(out, kind, scenario.replaceAll('/', '_'), String(attempt));
  const output = conformance(
    [
      'client',
      '--command',
      `${process.execPath} ${client}`,
      '--scenario',
      scenario,
      '--timeout',
      String(SCENARIO_TIMEOUT_MS),
      '-o',
      dir,
    ],
    { ...process.env, CONFORMANCE_TRANSPORT: kind },
  );
  const found = findChecks(dir);
  if (found === undefined) {
    if (attempt < 2) return runScenario(kind, scenario, out, attempt + 1);
    console.error(`${kind} ${scenario}: no result written; the suite said:\n${output}`);
    return { passed: false, checks: 0, failed: ['(no checks.json)'] };
  }
  const checks = JSON.parse(readFileSync(found, 'utf8')) as Array<{ id: string; status: string }>;
  const failed = checks.filter((c) => c.status === 'FAILURE').map((c) => c.id);
  return { passed: failed.length === 0, checks: checks.length, failed };
}

function findChecks(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('checks.json')) return join(dir, entry);
  }
  return undefined;
}

type Results = Record<string, Record<Kind, Outcome>>;
const resultsFile = join(here, 'results.json');

function main(): number {
  const recorded = process.argv.includes('--recorded-sdk')
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { results: Results }).results
    : undefined;
  const out = mkdtempSync(join(tmpdir(), 'sdk-transport-conformance-'));
  const results: Results = {};
  try {
    for (const scenario of clientScenarios()) {
      const sdk = recorded?.[scenario]?.sdk ?? runScenario('sdk', scenario, out);
      const ours = runScenario('ours', scenario, out);
      results[scenario] = { sdk, ours };
      const mark = (o: Outcome) => (o.passed ? 'pass' : `FAIL ${o.failed.join(',')}`);
      console.log(`${scenario.padEnd(44)} sdk: ${mark(sdk).padEnd(30)} ours: ${mark(ours)}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const rows = Object.entries(results);
  const count = (kind: Kind) => rows.filter(([, r]) => r[kind].passed).length;
  const regressions = rows.filter(([, r]) => r.sdk.passed && !r.ours.passed).map(([s]) => s);
  const summary = {
    scenarios: rows.length,
    passed: { sdk: count('sdk'), ours: count('ours') },
    regressions,
    results,
  };
  if (recorded === undefined) writeFileSync(resultsFile, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `conformance client scenarios: SDK transport ${summary.passed.sdk}/${rows.length}${recorded === undefined ? '' : ' (recorded)'}, ConnectionTransport ${summary.passed.ours}/${rows.length}`,
  );
  if (regressions.length > 0) console.log(`passing with the SDK only: ${regressions.join(', ')}`);
  return rows.length > 0 && regressions.length === 0 ? 0 : 1;
}

process.exitCode = main();
