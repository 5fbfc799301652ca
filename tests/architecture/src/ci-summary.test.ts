import { describe, expect, it } from 'vitest';
import { summarize, type VitestReport } from '../../../.ci/summarize.ts';

/** Reports shaped as vitest 5.1 writes them for each case (trimmed to the fields read). */
function report(over: Partial<VitestReport>): VitestReport {
  return {
    success: true,
    numPassedTests: 1,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    testResults: [
      { name: 'a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] },
    ],
    ...over,
  };
}

describe('the CI closing line', () => {
  it('counts a failing test nested in two describes as 1 failed', () => {
    const nested = report({
      success: false,
      numFailedTests: 1,
      testResults: [
        {
          name: 'a.test.ts',
          status: 'failed',
          assertionResults: [{ status: 'failed' }, { status: 'passed' }],
        },
      ],
    });
    const { line, problems } = summarize(nested, 1);
    expect(line).toBe('1 passed, 1 failed, 0 skipped');
    expect(problems).toEqual(['1 failed']);
  });

  it('counts a file that failed to load as one failure, naming it', () => {
    const broken = report({
      success: false,
      numPassedTests: 2,
      testResults: [
        {
          name: 'b.test.ts',
          status: 'failed',
          message: 'cannot load\nstack',
          assertionResults: [],
        },
        { name: 'ok.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] },
      ],
    });
    const { line, problems } = summarize(broken, 1);
    expect(line).toBe('2 passed, 1 failed, 0 skipped');
    expect(problems).toEqual(['b.test.ts: failed outside its tests: cannot load', '1 failed']);
  });

  it('fails on an unhandled error outside any test, though the report says success', () => {
    const { line, problems } = summarize(report({ numPassedTests: 2 }), 1);
    expect(line).toBe('2 passed, 0 failed, 0 skipped');
    expect(problems).toEqual([
      'vitest exited 1 with no failed test: an unhandled error or a crash (see above)',
    ]);
  });

  it('fails on success: false whatever the counts', () => {
    expect(summarize(report({ success: false }), 0).problems).toEqual([
      'vitest reports success: false',
    ]);
  });

  it('fails when a test was skipped or none passed', () => {
    expect(summarize(report({ numPendingTests: 1 }), 0).problems).toEqual([
      '1 skipped: CI runs every test',
    ]);
    expect(summarize(report({ numPassedTests: 0, testResults: [] }), 0).problems).toEqual([
      'no test passed',
    ]);
  });

  it('passes a clean run', () => {
    expect(summarize(report({}), 0)).toEqual({
      line: '1 passed, 0 failed, 0 skipped',
      problems: [],
    });
  });
});
