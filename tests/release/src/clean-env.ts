import path from 'node:path';

/**
 * The environment for a child that must behave as on a user's machine: without the npm_* and
 * pnpm_* variables of the `pnpm run` that started the tests (they would override a project's
 * .npmrc), and with this process's Node (the repo's pinned Node 24) first on PATH.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm|pnpm)_/i.test(key)) env[key] = value;
  }
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}
