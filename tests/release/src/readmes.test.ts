import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './demo-process.ts';
import { type CodeBlock, codeBlocks, isFragment, readmes } from './readme-blocks.ts';
import { run } from './run.ts';

const FRAGMENTS_DIR = fileURLToPath(new URL('../.fragments/', import.meta.url));
const TSC = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

const blocks = readmes(REPO_ROOT).flatMap(codeBlocks);
const where = (block: CodeBlock): string =>
  `${path.relative(REPO_ROOT, block.readme)}:${block.line}`;

describe('README code blocks', () => {
  it('are found in the package READMEs', () => {
    const packages = new Set(blocks.map((b) => path.relative(REPO_ROOT, b.readme)));
    for (const name of ['connection-core', 'sse', 'http2', 'pool']) {
      expect(packages).toContain(`packages/${name}/README.md`);
    }
  });

  it('are each either an example file CI runs or plainly marked as a fragment', () => {
    const unmarked = blocks.filter((b) => b.exampleFile === undefined && !isFragment(b));
    expect(unmarked.map(where), 'mark each with <!-- example: FILE --> or // Fragment:').toEqual(
      [],
    );
  });

  it('show an example file exactly as it is', async () => {
    for (const block of blocks.filter((b) => b.exampleFile !== undefined)) {
      const file = await readFile(block.exampleFile as string, 'utf8');
      expect(block.code, `${where(block)} differs from ${block.exampleFile}`).toBe(file);
    }
  });

  it('that are fragments type-check (strict): no undefined names, no wrong arguments', async () => {
    await rm(FRAGMENTS_DIR, { recursive: true, force: true });
    await mkdir(FRAGMENTS_DIR, { recursive: true });
    const fragments = blocks.filter(isFragment);
    expect(fragments.length).toBeGreaterThan(0);
    for (const block of fragments) {
      const name = where(block).replace(/[^a-z0-9]+/gi, '-');
      await writeFile(path.join(FRAGMENTS_DIR, `${name}.ts`), `${block.code}export {};\n`);
    }
    await writeFile(
      path.join(FRAGMENTS_DIR, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: { noEmit: true, skipLibCheck: true },
        include: ['*.ts'],
      }),
    );
    const result = await run(process.execPath, [TSC, '-p', FRAGMENTS_DIR, '--pretty', 'false'], {
      cwd: FRAGMENTS_DIR,
      timeoutMs: 120_000,
    });
    expect(result.stdout + result.stderr, 'tsc on the README fragments').toBe('');
    expect(result.code).toBe(0);
  });
});
