/**
 * The code blocks of the repository's READMEs, and the rule they follow: a TypeScript block is
 * either an example file (the line before it is `<!-- example: examples/x.ts -->` and the block
 * is that file, byte for byte) or plainly a fragment (its first line is `// Fragment: ...`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface CodeBlock {
  readme: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The file named by `<!-- example: ... -->` before the block, resolved. */
  exampleFile: string | undefined;
}

const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs']);
const EXAMPLE_MARK = /^<!-- example: (\S+) -->$/;

/** Every README.md in the repository's packages, apps, bench and docs, plus the root's. */
export function readmes(root: string): string[] {
  const found = [path.join(root, 'README.md')];
  for (const group of ['packages', 'apps', 'tests']) {
    for (const entry of readdirSync(path.join(root, group), { withFileTypes: true })) {
      const file = path.join(root, group, entry.name, 'README.md');
      if (entry.isDirectory() && existsSync(file)) found.push(file);
    }
  }
  for (const file of ['bench/README.md', ...docs(root)]) found.push(path.join(root, file));
  return found;
}

/** A doc written for another project (a bug report's repro scripts) says so on a line of its own. */
const FOREIGN_REPRO_MARK = '<!-- code blocks: a repro for another project, run by hand -->';

function docs(root: string): string[] {
  return readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .filter(
      (name) => !readFileSync(path.join(root, 'docs', name), 'utf8').includes(FOREIGN_REPRO_MARK),
    )
    .map((name) => `docs/${name}`);
}

/** The fenced blocks of one README written in a programming language (not sh, text, yaml). */
export function codeBlocks(readme: string): CodeBlock[] {
  const lines = readFileSync(readme, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`${readme}:${i + 1}: unclosed code block`);
    const lang = open[1] ?? '';
    const mark = EXAMPLE_MARK.exec(lines[i - 1] ?? '');
    if (CODE_LANGS.has(lang)) {
      blocks.push({
        readme,
        line: i + 1,
        lang,
        code: `${lines.slice(i + 1, end).join('\n')}\n`,
        exampleFile:
          mark?.[1] === undefined ? undefined : path.resolve(path.dirname(readme), mark[1]),
      });
    }
    i = end;
  }
  return blocks;
}

export function isFragment(block: CodeBlock): boolean {
  return block.code.startsWith('// Fragment: ');
}
