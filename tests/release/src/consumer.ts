/**
 * A user's fresh npm project, outside the workspace: depends on the four packages at `^` the
 * published versions, installs them from the local registry (npm cache in the temp dir), and
 * uses them from ESM, TypeScript (nodenext, strict) and CommonJS.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv } from './clean-env.ts';
import { REPO_ROOT } from './demo-process.ts';
import type { PublicPackage } from './release-workspace.ts';

/** What the fresh project installs (`@mcp/sdk-transport` is published too, but needs the SDK). */
export const CONSUMED = ['@mcp/connection-core', '@mcp/sse', '@mcp/http2', '@mcp/pool'] as const;

import { mustRun, type RunResult, run } from './run.ts';

const TYPES_NODE = '24.19.4';

const CONSUMER_TS = `import { isMcpConnectionError, type JsonRpcRequest, MIN_NODE_VERSION } from '@mcp/connection-core';
import { createHttp2Connection, type Http2ConnectionOptions } from '@mcp/http2';
import { OriginPool } from '@mcp/pool';
import { formatSseEvent, type SseEvent } from '@mcp/sse';

const options: Http2ConnectionOptions = { url: 'http://127.0.0.1:1/mcp', h2c: true };
const request: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const event: SseEvent = { id: '1', data: JSON.stringify(request) };

export async function use(): Promise<string> {
  await using pool = new OriginPool({ maxConnectionsPerOrigin: 2 });
  const connection = createHttp2Connection(options);
  try {
    const response = await connection.request(request, { timeoutMs: 1_000 });
    return 'result' in response ? JSON.stringify(response.result) : response.error.message;
  } catch (err) {
    if (isMcpConnectionError(err)) return err.code;
    throw err;
  } finally {
    await connection.close();
    pool.stats().total.sessions satisfies number;
  }
}
export const text: string = formatSseEvent(event) + MIN_NODE_VERSION;
`;

const REQUIRE_CJS = `const core = require('@mcp/connection-core');
const { createHttp2Connection } = require('@mcp/http2');
const { OriginPool } = require('@mcp/pool');
const { formatSseEvent } = require('@mcp/sse');
const versions = ${JSON.stringify(CONSUMED)}.map(
  (name) => name + '@' + require(name + '/package.json').version,
);
console.log(typeof core.parseMessage, typeof createHttp2Connection, typeof OriginPool, typeof formatSseEvent);
console.log(versions.join(' '));
`;

const IMPORT_MJS = `import { OriginPool } from '@mcp/pool';
console.log(typeof OriginPool);
`;

export class ConsumerProject {
  readonly dir: string;
  readonly #registry: string;
  readonly #cache: string;

  private constructor(dir: string, registry: string, cache: string) {
    this.dir = dir;
    this.#registry = registry;
    this.#cache = cache;
  }

  static async create(
    dir: string,
    registry: string,
    cache: string,
    versions: Record<PublicPackage, string>,
  ): Promise<ConsumerProject> {
    await mkdir(path.join(dir, 'src'), { recursive: true });
    const dependencies = Object.fromEntries(CONSUMED.map((name) => [name, `^${versions[name]}`]));
    const manifest = {
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies,
      devDependencies: { '@types/node': TYPES_NODE },
    };
    await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: true,
        },
        include: ['src'],
      }),
    );
    await writeFile(path.join(dir, 'src', 'consumer.ts'), CONSUMER_TS);
    await writeFile(path.join(dir, 'require.cjs'), REQUIRE_CJS);
    await writeFile(path.join(dir, 'import.mjs'), IMPORT_MJS);
    // The README's ESM example, as a user copies it.
    await copyFile(
      path.join(REPO_ROOT, 'packages/http2/examples/many-calls.ts'),
      path.join(dir, 'many-calls.ts'),
    );
    return new ConsumerProject(dir, registry, cache);
  }

  npm(args: readonly string[]): Promise<RunResult> {
    return mustRun(
      'npm',
      [...args, '--registry', this.#registry, '--cache', this.#cache, '--no-audit', '--no-fund'],
      {
        cwd: this.dir,
        env: cleanEnv(),
        timeoutMs: 240_000,
      },
    );
  }

  /** Runs `node args` with the given Node binary (default: this process's, Node 24). */
  node(args: readonly string[], nodeBinary = process.execPath): Promise<RunResult> {
    return run(nodeBinary, args, { cwd: this.dir, env: cleanEnv(), timeoutMs: 120_000 });
  }

  /** Type-checks src/ with the repository's TypeScript. */
  tsc(): Promise<RunResult> {
    const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    return run(process.execPath, [tsc, '-p', this.dir, '--pretty', 'false'], {
      cwd: this.dir,
      env: cleanEnv(),
      timeoutMs: 120_000,
    });
  }

  async installed(name: PublicPackage): Promise<{ version: string; license: boolean }> {
    const dir = path.join(this.dir, 'node_modules', name);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    const license = await readFile(path.join(dir, 'LICENSE'), 'utf8').then(
      (text) => text.startsWith('MIT License'),
      () => false,
    );
    return { version: manifest.version as string, license };
  }
}
