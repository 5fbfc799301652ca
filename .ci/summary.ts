// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report, and exits
// non-zero when the run failed in any way. Usage: node .ci/summary.ts REPORT [VITEST_EXIT_CODE]
import { readFileSync } from 'node:fs';
import { summarize, type VitestReport } from './summarize.ts';

const path = process.argv[2] ?? '.ci/out/vitest.json';
const exitCode = Number(process.argv[3] ?? 0);
let report: VitestReport;
try {
  report = JSON.parse(readFileSync(path, 'utf8')) as VitestReport;
} catch (err) {
  console.log(`no vitest report at ${path}: ${(err as Error).message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const { line, problems } = summarize(report, exitCode);
for (const problem of problems) console.log(`CI fails: ${problem}`);
console.log(line);
process.exit(problems.length > 0 ? 1 : 0);
