import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import { afterEach, expect, it } from 'vitest';

const run = promisify(execFile);
let server: SdkServer | undefined;

afterEach(async () => {
  await server?.close();
});

it('examples/list-tools.ts lists the tools of the SDK server', async () => {
  server = await startSdkServer({ mode: 'sse' });
  const script = fileURLToPath(new URL('../examples/list-tools.ts', import.meta.url));
  const { stdout } = await run(process.execPath, [script, server.url], { timeout: 15_000 });
  expect(stdout).toContain('protocol 2025-11-25');
  expect(stdout).toContain('- echo');
});
