/**
 * Ctrl-C at a terminal, handled by this process alone. A terminal sends SIGINT to every process
 * of the foreground group: `npx` and `pnpm` wrapping `node` also get it, and pnpm, signalled again
 * by npx, gives up with 130 though the proxy drained and exited 0. With stdin a TTY in raw mode
 * the keypress arrives here as a byte instead, is turned into a SIGINT to this process only (the
 * same graceful drain, a second press forces the exit), and every wrapper exits with our code.
 */
const CTRL_C = 0x03;

/** Reads Ctrl-C from a TTY stdin; does nothing when stdin is not a terminal. */
export function takeCtrlCFromTerminal(stdin: NodeJS.ReadStream = process.stdin): boolean {
  if (!stdin.isTTY) return false;
  stdin.setRawMode(true);
  stdin.on('data', (bytes: Buffer) => {
    if (bytes.includes(CTRL_C)) process.kill(process.pid, 'SIGINT');
  });
  stdin.resume();
  return true;
}
