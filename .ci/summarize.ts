/**
 * Reads vitest's JSON report into the closing line CI prints: tests counted, not suites.
 * Kept apart from the script so tests can feed it reports of every shape.
 */

/** The fields of vitest's JSON report this reads (vitest 5). */
export interface VitestReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ status: string }>;
  }>;
}

export interface Summary {
  /** `N passed, N failed, N skipped`. */
  line: string;
  /** Why the run fails, one line each; empty when it passes. */
  problems: string[];
}

/**
 * `exitCode` is vitest's own: its JSON report says `success: true` after an unhandled error
 * outside any test, while vitest exits 1.
 */
export function summarize(report: VitestReport, exitCode: number): Summary {
  // A file that failed to load (or whose hooks failed) has no failed test of its own.
  const brokenFiles = report.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'),
  );
  const failed = report.numFailedTests + brokenFiles.length;
  const skipped = report.numPendingTests + report.numTodoTests;
  const problems: string[] = [];
  for (const file of brokenFiles) {
    problems.push(`${file.name}: failed outside its tests: ${firstLine(file.message)}`);
  }
  if (report.numPassedTests === 0) problems.push('no test passed');
  if (skipped > 0) problems.push(`${skipped} skipped: CI runs every test`);
  if (!report.success && failed === 0) problems.push('vitest reports success: false');
  if (exitCode !== 0 && failed === 0) {
    problems.push(
      `vitest exited ${exitCode} with no failed test: an unhandled error or a crash (see above)`,
    );
  }
  if (failed > 0) problems.push(`${failed} failed`);
  return {
    line: `${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`,
    problems,
  };
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0] || 'no message';
}
