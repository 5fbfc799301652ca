/**
 * Bad TLS files stop the start script with exit 2 and a message naming the config field and
 * the reason (issue #13, item 5), instead of a stack or a bare OpenSSL error.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionsError } from '@mcp/connection-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutOpenssl, writeSelfSignedCertificate } from './test-tls.ts';
import { checkTlsFiles } from './tls-files.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;

/** Runs the start script on a config with these TLS files; resolves its exit code and stderr. */
async function start(dir: string, cert: string, key: string) {
  const config = join(dir, `proxy-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      listen: { port: 0, tls: { cert, key } },
      upstreams: [{ name: 'x', url: 'http://127.0.0.1:9/mcp' }],
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [MAIN, '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout?.resume();
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code === null) throw new Error('the start script was killed');
  return { code, stderr: stderr.trim() };
}

describe.skipIf(skipWithoutOpenssl)('TLS files checked at start-up', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let otherKey: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-proxy-tls-files-'));
    ({ cert, key } = writeSelfSignedCertificate(dir));
    otherKey = join(dir, 'other-key.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(otherKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the start script exit 2 with the field and the reason (cert/key mismatch)', async () => {
    const result = await start(dir, cert, otherKey);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `Invalid proxy config: listen.tls.key: ${otherKey} is not the private key of ${cert}` +
        ' (ERR_OSSL_X509_KEY_VALUES_MISMATCH)',
    );
  });

  it('names the field and the reason for each bad file', () => {
    const cases = [
      {
        files: [join(dir, 'missing.pem'), key],
        says: `listen.tls.cert: cannot read ${join(dir, 'missing.pem')} (ENOENT)`,
      },
      { files: [cert, dir], says: `listen.tls.key: cannot read ${dir} (EISDIR)` },
      {
        files: [join(dir, 'garbage.pem'), key],
        says: `listen.tls.cert: ${join(dir, 'garbage.pem')} is not a PEM certificate`,
      },
      { files: [cert, cert], says: `listen.tls.key: ${cert} is not a PEM private key` },
    ];
    for (const c of cases) {
      const tls = { cert: c.files[0] as string, key: c.files[1] as string };
      const error = (() => {
        try {
          checkTlsFiles(tls);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toContain(c.says);
    }
    expect(() => checkTlsFiles({ cert, key })).not.toThrow();
  });
});
