/**
 * A release as a maintainer cuts it (root README, "Releasing") and as a user meets it: publish
 * the public packages to a local Verdaccio from a throwaway copy of the repository, install
 * them in a fresh npm project, use them from ESM, TypeScript and CommonJS, then publish the next
 * version after a changeset and upgrade the project.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMED, ConsumerProject } from './consumer.ts';
import { type DemoProcess, REPO_ROOT, startDemo } from './demo-process.ts';
import { type LocalRegistry, startRegistry } from './registry.ts';
import { PUBLIC_PACKAGES, type PublicPackage, ReleaseWorkspace } from './release-workspace.ts';

const NAMES = Object.keys(PUBLIC_PACKAGES) as PublicPackage[];
const OLD_NODE = '/usr/bin/node';

/** The machine's own Node, when it is one the packages refuse (Node 20 here). */
function oldNodeVersion(): string | undefined {
  if (!existsSync(OLD_NODE)) return undefined;
  const version = execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).trim();
  const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
  return major < 22 || (major === 22 && minor < 19) ? version : undefined;
}

interface Packument {
  'dist-tags': { latest: string };
  versions: Record<string, Record<string, unknown>>;
}

async function packument(registry: LocalRegistry, name: string): Promise<Packument> {
  const response = await fetch(new URL(name.replace('/', '%2f'), registry.url));
  expect(response.status, `GET ${name}`).toBe(200);
  return (await response.json()) as Packument;
}

describe('a release through a local registry', () => {
  let tmp: string;
  let registry: LocalRegistry;
  let demo: DemoProcess;
  let workspace: ReleaseWorkspace;
  let consumer: ConsumerProject;
  let first: Record<PublicPackage, string>;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'mcp-release-'));
    registry = await startRegistry(path.join(tmp, 'registry'));
    demo = await startDemo();
    workspace = await ReleaseWorkspace.create(REPO_ROOT, path.join(tmp, 'repo'), registry);
    await workspace.pnpm(['install', '--frozen-lockfile', '--prefer-offline']);
  });
  afterAll(async () => {
    await demo?.stop();
    await registry?.close();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('packs only the public packages (pnpm -r pack)', async () => {
    const out = path.join(tmp, 'packed');
    await workspace.pnpm(['-r', 'pack', '--pack-destination', out]);
    const versions = await workspace.versions();
    const expected = NAMES.map(
      (name) => `${name.slice(1).replace('/', '-')}-${versions[name]}.tgz`,
    );
    expect((await readdir(out)).sort()).toEqual(expected.sort());
  });

  it('publishes the public packages after `release:version` and `release`', async () => {
    first = await workspace.release('release: the first version');
    for (const name of NAMES) {
      const published = await packument(registry, name);
      expect(published['dist-tags'].latest, name).toBe(first[name]);
    }
  });

  it('publishes manifests with ranges, repository, homepage, keywords and engines', async () => {
    for (const name of NAMES) {
      const manifest = (await packument(registry, name)).versions[first[name]] ?? {};
      const dependencies = manifest.dependencies as Record<string, string>;
      for (const [dependency, range] of Object.entries(dependencies)) {
        expect(range, `${name} -> ${dependency}`).toMatch(/^\^\d+\.\d+\.\d+$/);
      }
      expect(manifest.repository, name).toMatchObject({
        type: 'git',
        url: expect.stringContaining('github.com'),
      });
      expect(manifest.homepage, name).toEqual(expect.stringContaining('#readme'));
      expect((manifest.keywords as string[]).length, name).toBeGreaterThan(2);
      expect(manifest.engines, name).toEqual({ node: '>=22.19.0' });
      expect(manifest.license, name).toBe('MIT');
    }
  });

  it('installs them in a fresh npm project, each with its LICENSE', async () => {
    consumer = await ConsumerProject.create(
      path.join(tmp, 'consumer'),
      registry.url,
      path.join(tmp, 'npm-cache'),
      first,
    );
    await consumer.npm(['install']);
    for (const name of CONSUMED) {
      expect(await consumer.installed(name), name).toEqual({ version: first[name], license: true });
    }
  });

  it('runs the README example (ESM) against the demo upstream', async () => {
    const result = await consumer.node(['many-calls.ts', demo.upstreamUrl, '--h2c']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('100 of 100 calls answered');
    expect(result.stderr).toBe('');
  });

  it('type-checks a strict TypeScript consumer (module and moduleResolution nodenext)', async () => {
    const result = await consumer.tsc();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('loads with require() from CommonJS on this Node (22.12+: require of ESM)', async () => {
    const result = await consumer.node(['require.cjs']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('function function function function');
  });

  it.skipIf(oldNodeVersion() === undefined)(
    `refuses the machine's old Node (${OLD_NODE}) with one clear error naming 22.19.0`,
    async () => {
      for (const file of ['import.mjs', 'require.cjs']) {
        const result = await consumer.node([file], OLD_NODE);
        expect(result.code, file).not.toBe(0);
        expect(result.stderr, file).toContain(
          `UnsupportedNodeError: The @mcp packages need Node.js >= 22.19.0; this is Node.js ${oldNodeVersion()?.slice(1)}`,
        );
        expect(result.stderr, file).toContain("code: 'MCP_UNSUPPORTED_NODE'");
      }
    },
  );

  it('publishes the next version after a changeset, and the consumer upgrades to it', async () => {
    await workspace.addChangeset(
      'release-test-next',
      { '@mcp/connection-core': 'patch', '@mcp/pool': 'patch' },
      'The next release.',
    );
    const next = await workspace.release('release: the next version');
    expect(next['@mcp/connection-core']).not.toBe(first['@mcp/connection-core']);
    expect(next['@mcp/pool']).not.toBe(first['@mcp/pool']);
    await consumer.npm(['update']);
    for (const name of CONSUMED) {
      expect((await consumer.installed(name)).version, name).toBe(next[name]);
    }
    const result = await consumer.node(['require.cjs']);
    expect(result.stdout).toContain(`@mcp/pool@${next['@mcp/pool']}`);
  });
});
