/**
 * The MCP Inspector command the demo prints works from a user's shell on this machine, whose own
 * Node (first on the usual PATH) may be older than the Inspector needs (Node 20 here).
 */
import { describe, expect, it } from 'vitest';
import { cleanEnv } from './clean-env.ts';
import { startDemo } from './demo-process.ts';
import { run } from './run.ts';

const USER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe('the Inspector command the demo prints', () => {
  it('lists the example tools (CLI mode) from a shell with the machine’s own Node first', async () => {
    const demo = await startDemo();
    try {
      const command = demo.banner
        .split('\n')
        .map((line) => line.trim())
        .find((line) => line.includes('inspector') && line.includes('--cli'));
      expect(command, demo.banner).toBeDefined();
      const result = await run('sh', ['-c', command as string], {
        cwd: process.cwd(),
        env: cleanEnv({ PATH: USER_PATH }),
        timeoutMs: 240_000,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('"name": "echo"');
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });
});
