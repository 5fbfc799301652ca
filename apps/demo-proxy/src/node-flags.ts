/**
 * The V8 flags the proxy runs with: `pnpm start`, the Kubernetes manifest under deploy/, the
 * cluster's replicas and the bench's proxy all start `main.ts` with them.
 *
 * `--max-semi-space-size=4` (MB): with thousands of slow calls in flight, each holds a few KB of
 * live objects that V8's default young generation (semi-spaces growing to 16-32 MB) copies
 * back and forth before promoting them, and the process keeps the grown semi-spaces. Peak RSS of
 * the bench's scale scenario (10,000 calls in flight), swept by semi-space size: default ~529 MB,
 * 2 MB 433, 4 MB 387-400, 8 MB 415-434, 16 MB 453. `--optimize-for-size` reached 342 MB but
 * cost 2.5x the CPU per call, so it is not used.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The flags of PROXY_NODE_FLAGS that `execArgv` (this process's, by default) lacks. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return PROXY_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
