/**
 * A throwaway copy of the repository (the files git knows, as they are in the work tree), in
 * which a maintainer's release steps run: install, add a changeset, `release:version`, commit,
 * `release` (build, publint, attw, `pnpm -r publish`) to a local registry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv } from './clean-env.ts';
import type { LocalRegistry } from './registry.ts';
import { mustRun } from './run.ts';

export const PUBLIC_PACKAGES = {
  '@mcp/connection-core': 'packages/connection-core',
  '@mcp/sse': 'packages/sse',
  '@mcp/http2': 'packages/http2',
  '@mcp/pool': 'packages/pool',
  '@mcp/sdk-transport': 'packages/sdk-transport',
} as const;
export type PublicPackage = keyof typeof PUBLIC_PACKAGES;

const PNPM = ['-y', 'pnpm@12.21.0'];
const GIT_USER = ['-c', 'user.name=release-test', '-c', 'user.email=release-test@localhost'];

function trackedFiles(repoRoot: string): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return out.split('\0').filter((file) => file !== '' && existsSync(path.join(repoRoot, file)));
}

export class ReleaseWorkspace {
  readonly dir: string;
  readonly #env: NodeJS.ProcessEnv;

  private constructor(dir: string, env: NodeJS.ProcessEnv) {
    this.dir = dir;
    this.#env = env;
  }

  /** Copies the repository to `dir` as a new git repository whose `.npmrc` names `registry`. */
  static async create(
    repoRoot: string,
    dir: string,
    registry: LocalRegistry,
  ): Promise<ReleaseWorkspace> {
    await mkdir(dir, { recursive: true });
    for (const file of trackedFiles(repoRoot)) {
      await cp(path.join(repoRoot, file), path.join(dir, file), { recursive: false });
    }
    const host = new URL(registry.url).host;
    await writeFile(
      path.join(dir, '.npmrc'),
      `registry=${registry.url}\n//${host}/:_authToken=${registry.token}\n`,
    );
    const env = cleanEnv({ CI: 'true', TURBO_TELEMETRY_DISABLED: '1' });
    const workspace = new ReleaseWorkspace(dir, env);
    await workspace.git(['init', '-q', '-b', 'main']);
    await workspace.commit('the repository as released');
    return workspace;
  }

  pnpm(args: readonly string[], timeoutMs = 300_000): Promise<unknown> {
    return mustRun('npx', [...PNPM, ...args], { cwd: this.dir, env: this.#env, timeoutMs });
  }

  git(args: readonly string[]): Promise<unknown> {
    return mustRun('git', [...GIT_USER, ...args], { cwd: this.dir, env: this.#env });
  }

  async commit(message: string): Promise<void> {
    await this.git(['add', '-A']);
    await this.git(['commit', '-q', '--allow-empty', '-m', message]);
  }

  /** Writes a changeset as a maintainer (or `pnpm changeset`) would. */
  async addChangeset(
    name: string,
    bumps: Partial<Record<PublicPackage, 'patch' | 'minor'>>,
    summary: string,
  ): Promise<void> {
    const frontmatter = Object.entries(bumps).map(([pkg, bump]) => `"${pkg}": ${bump}`);
    await writeFile(
      path.join(this.dir, '.changeset', `${name}.md`),
      ['---', ...frontmatter, '---', '', summary, ''].join('\n'),
    );
  }

  async versions(): Promise<Record<PublicPackage, string>> {
    const entries = await Promise.all(
      Object.entries(PUBLIC_PACKAGES).map(async ([name, dir]) => {
        const manifest = JSON.parse(
          await readFile(path.join(this.dir, dir, 'package.json'), 'utf8'),
        );
        return [name, manifest.version as string] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<PublicPackage, string>;
  }

  /** `release:version`, commit, `release`: what the root README tells a maintainer to run. */
  async release(message: string): Promise<Record<PublicPackage, string>> {
    await this.pnpm(['run', 'release:version']);
    await this.commit(message);
    await this.pnpm(['run', 'release']);
    return this.versions();
  }
}
