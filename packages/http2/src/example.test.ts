import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSdkServer } from '@mcp/test-fixtures';
import { expect, it } from 'vitest';
import { closeAfterEach } from '../test/helpers.ts';

const run = promisify(execFile);
const own = closeAfterEach();

it('examples/list-tools.ts lists the tools of the SDK server', async () => {
  const server = own(await startSdkServer({ mode: 'sse' }));
  const script = fileURLToPath(new URL('../examples/list-tools.ts', import.meta.url));
  const { stdout } = await run(process.execPath, [script, server.url], { timeout: 15_000 });
  expect(stdout).toContain('protocol 2025-11-25');
  expect(stdout).toContain('- echo');
});
