import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionsError } from '@mcp/connection-core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProxyConfig } from './config.ts';
import { checkSealingKeys, loadSealingKeys } from './sealing-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'sealing-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secret = (): string => randomBytes(32).toString('base64');

function file(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    return (err as InvalidOptionsError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected InvalidOptionsError');
}

describe('sealing keys', () => {
  it('loads secrets inline, from an environment variable and from a private file', () => {
    const inline = secret();
    const fromEnv = secret();
    const fromFile = secret();
    const path = file('k3', `${fromFile}\n`, 0o600);
    const keys = loadSealingKeys(
      [
        { id: 'k1', secret: inline },
        { id: 'k2', secretEnv: 'TEST_SEALING_KEY' },
        { id: 'k3', secretFile: path },
      ],
      { TEST_SEALING_KEY: fromEnv },
    );
    expect(keys.map((k) => [k.id, k.key.toString('base64')])).toEqual([
      ['k1', inline],
      ['k2', fromEnv],
      ['k3', fromFile],
    ]);
  });

  it('refuses a world-readable key file, a missing variable, and a secret that is not 32 bytes', () => {
    const open = file('open', secret(), 0o644);
    const issues = issuesOf(() =>
      loadSealingKeys(
        [
          { id: 'a', secretFile: open },
          { id: 'b', secretEnv: 'UNSET_SEALING_KEY' },
          { id: 'c', secret: randomBytes(16).toString('base64') },
          { id: 'd', secretFile: join(dir, 'missing') },
        ],
        {},
      ),
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^sessions\.sealingKeys\.0\.secretFile: .*every user can read \(mode 0644\)/,
      ),
      'sessions.sealingKeys.1.secretEnv: environment variable UNSET_SEALING_KEY is not set',
      expect.stringMatching(/^sessions\.sealingKeys\.2\.secret: not base64 of 32 bytes/),
      expect.stringMatching(/^sessions\.sealingKeys\.3\.secretFile: .*cannot be read \(ENOENT\)/),
    ]);
  });

  it('refuses inline secrets in a world-readable config file, not in a private one', () => {
    const keys = [{ id: 'k1', secret: secret() }];
    const shared = file('shared.yaml', 'x', 0o644);
    expect(issuesOf(() => checkSealingKeys(shared, keys))).toEqual([
      expect.stringMatching(/^sessions\.sealingKeys\.0\.secret: inline secret in .*shared\.yaml/),
    ]);
    expect(() => checkSealingKeys(file('private.yaml', 'x', 0o600), keys)).not.toThrow();
    // Secrets kept out of the file: its mode does not matter.
    const env = { K: secret() };
    expect(() => checkSealingKeys(shared, [{ id: 'k1', secretEnv: 'K' }], env)).not.toThrow();
  });

  it('are validated with the config: one source per key, unique ids', () => {
    const base = { upstreams: [{ name: 'u', url: 'http://127.0.0.1:1/mcp' }] };
    const bad = (sealingKeys: unknown) =>
      issuesOf(() => parseProxyConfig({ ...base, sessions: { sealingKeys } })).join('\n');
    expect(bad([])).toMatch(/sessions\.sealingKeys: at least one key/);
    expect(bad([{ id: 'k', secret: 'a', secretEnv: 'B' }])).toMatch(/sessions\.sealingKeys\.0/);
    expect(bad([{ id: 'a.b', secret: 'a' }])).toMatch(/sessions\.sealingKeys\.0/);
    expect(
      bad([
        { id: 'k', secret: 'a' },
        { id: 'k', secretEnv: 'B' },
      ]),
    ).toMatch(/sessions\.sealingKeys\.1\.id: duplicate key id "k"/);
    const config = parseProxyConfig(base);
    expect(config.sessions.sealingKeys).toBeUndefined();
  });
});
