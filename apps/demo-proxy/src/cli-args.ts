/**
 * The script's arguments, without the `--` separator that `pnpm <script> -- --flag` passes on
 * literally (which would make node's parseArgs treat every flag as positional).
 */
export function scriptArgs(argv: readonly string[] = process.argv.slice(2)): string[] {
  return argv.filter((arg, i) => !(arg === '--' && i === argv.indexOf('--')));
}
