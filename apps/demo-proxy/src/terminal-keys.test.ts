import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const DEMO = new URL('./demo.ts', import.meta.url).pathname;

/**
 * Runs the demo on a pseudo-terminal (util-linux `script`) under a shell that traps SIGINT, as
 * npx and pnpm sit above it at a user's terminal; resolves with everything the terminal showed
 * once the shell is done.
 */
function ctrlCOnTerminal(): Promise<string> {
  const shell = `trap 'echo WRAPPER-GOT-SIGINT' INT; LOG_FORMAT=json "${process.execPath}" "${DEMO}" --port 0 --upstream-port 0; echo "demo exited $?"`;
  const child = spawn(
    'script',
    ['-qec', `sh -c '${shell.replaceAll("'", "'\\''")}'`, '/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let screen = '';
    let pressed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
      if (!pressed && screen.includes('Ctrl-C stops')) {
        pressed = true;
        child.stdin.write('\x03');
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(screen));
  });
}

describe('Ctrl-C at a terminal', () => {
  it('drains and exits 0, and the processes above the demo get no SIGINT', async () => {
    const screen = await ctrlCOnTerminal();
    expect(screen).toContain('"msg":"stopped"');
    expect(screen).toContain('demo exited 0');
    expect(screen).not.toContain('WRAPPER-GOT-SIGINT');
  });
});
