/**
 * The TLS files of `listen.tls`, checked before the proxy starts: each must be readable PEM and
 * the key must be the certificate's. A failure names the config field and the reason.
 */

import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { InvalidOptionsError } from '@mcp/connection-core';
import type { ProxyConfig } from './config.ts';

type TlsConfig = NonNullable<ProxyConfig['listen']['tls']>;

/** Throws InvalidOptionsError naming `listen.tls.cert` or `listen.tls.key` and what is wrong. */
export function checkTlsFiles(tls: TlsConfig): void {
  const cert = readPem(tls.cert, 'listen.tls.cert');
  const key = readPem(tls.key, 'listen.tls.key');
  attempt('listen.tls.cert', `${tls.cert} is not a PEM certificate`, () =>
    createSecureContext({ cert }),
  );
  attempt('listen.tls.key', `${tls.key} is not a PEM private key (or is encrypted)`, () =>
    createPrivateKey(key),
  );
  attempt('listen.tls.key', `${tls.key} is not the private key of ${tls.cert}`, () =>
    createSecureContext({ cert, key }),
  );
}

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw invalid(field, `cannot read ${path}`, cause);
  }
}

function attempt(field: string, message: string, check: () => unknown): void {
  try {
    check();
  } catch (cause) {
    throw invalid(field, message, cause);
  }
}

function invalid(field: string, message: string, cause: unknown): InvalidOptionsError {
  const code = (cause as { code?: unknown }).code;
  const reason = typeof code === 'string' ? `${message} (${code})` : message;
  return new InvalidOptionsError('proxy config', [{ path: field, message: reason }], { cause });
}
