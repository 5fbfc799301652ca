import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The layers (STYLE.md): core <- sse <- http2; the pool composes a transport through a factory
 * (http2 is its default); sdk-transport sits above the pool, adapting any Connection to the
 * official SDK; nothing published depends on an app, a bench or a test package.
 */
const ALLOWED: Record<string, string[]> = {
  '@mcp/connection-core': [],
  '@mcp/sse': ['@mcp/connection-core'],
  '@mcp/http2': ['@mcp/connection-core', '@mcp/sse'],
  '@mcp/pool': ['@mcp/connection-core', '@mcp/http2'],
  '@mcp/sdk-transport': ['@mcp/connection-core', '@mcp/pool'],
};
/** Third-party runtime dependencies each package may have. */
const THIRD_PARTY: Record<string, string[]> = {
  '@mcp/connection-core': ['zod'],
  '@mcp/sse': ['eventsource-parser', 'undici', 'zod'],
  '@mcp/http2': ['undici', 'zod'],
  '@mcp/pool': ['undici', 'zod'],
  '@mcp/sdk-transport': ['zod'],
};
/**
 * Peer dependencies each package may have: the official SDKs it adapts to, optional (a user
 * has one of them), never imported by its published sources.
 */
const PEERS: Record<string, string[]> = {
  '@mcp/sdk-transport': ['@modelcontextprotocol/client', '@modelcontextprotocol/sdk'],
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function packages(): Array<{ dir: string; manifest: Manifest }> {
  const dir = join(ROOT, 'packages');
  return readdirSync(dir).map((name) => ({
    dir: join(dir, name),
    manifest: JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as Manifest,
  }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

describe('package boundaries', () => {
  const all = packages();

  it('knows every package', () => {
    expect(all.map((p) => p.manifest.name).sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(all.map((p) => [p.manifest.name, p] as const))('%s depends only downward', (name, p) => {
    const deps = Object.keys(p.manifest.dependencies ?? {});
    const internal = deps.filter((d) => d.startsWith('@mcp/'));
    const external = deps.filter((d) => !d.startsWith('@mcp/'));
    expect(internal.sort()).toEqual([...(ALLOWED[name] ?? [])].sort());
    expect(external.sort()).toEqual([...(THIRD_PARTY[name] ?? [])].sort());
    for (const d of internal) expect(p.manifest.dependencies?.[d]).toBe('workspace:^');
  });

  it.each(all.map((p) => [p.manifest.name, p] as const))(
    '%s has only the optional peers it is allowed',
    (name, p) => {
      const peers = Object.keys(p.manifest.peerDependencies ?? {});
      expect(peers.sort()).toEqual([...(PEERS[name] ?? [])].sort());
      for (const peer of peers) {
        expect(p.manifest.peerDependenciesMeta?.[peer]?.optional, `${peer} optional`).toBe(true);
      }
    },
  );

  it.each(all.map((p) => [p.manifest.name, p] as const))(
    "%s's published sources import only what it declares, and nothing across package folders",
    (name, p) => {
      const declared = new Set([...(ALLOWED[name] ?? []), ...(THIRD_PARTY[name] ?? [])]);
      for (const file of sourceFiles(join(p.dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const [, spec] of text.matchAll(/\bfrom\s+'([^']+)'/g)) {
          if (spec === undefined || spec.startsWith('node:')) continue;
          const where = relative(ROOT, file);
          if (spec.startsWith('.')) {
            expect(spec.startsWith('../../'), `${where} reaches out with ${spec}`).toBe(false);
            continue;
          }
          const pkg = spec.startsWith('@')
            ? spec.split('/').slice(0, 2).join('/')
            : spec.split('/')[0];
          expect(declared.has(pkg as string), `${where} imports undeclared ${spec}`).toBe(true);
        }
      }
    },
  );
});
