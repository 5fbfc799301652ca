// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.ci/out/vitest.json';
interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
}
let report: Report;
try {
  report = JSON.parse(readFileSync(path, 'utf8')) as Report;
} catch (err) {
  console.log(`no vitest report at ${path}: ${(err as Error).message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// A suite that failed to load has no tests of its own: count it as a failure.
const failed = report.numFailedTests + report.numFailedTestSuites;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || report.numPassedTests === 0 ? 1 : 0);
