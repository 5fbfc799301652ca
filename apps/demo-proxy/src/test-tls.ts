/** TLS files for the proxy's tests, made with openssl in a directory of the test's own. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const openssl = hasOpenssl();

/**
 * For `describe.skipIf`: the TLS tests skip only on a developer's machine without openssl.
 * CI installs it (.ci/run); there a missing openssl fails the tests, saying so.
 */
export const skipWithoutOpenssl = !openssl && process.env.CI !== 'true';

/** Writes a self-signed certificate for localhost and its key; returns their paths. */
export function writeSelfSignedCertificate(dir: string): { cert: string; key: string } {
  if (!openssl) throw new Error('openssl is not installed: CI must install it (see .ci/run)');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ...['-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
