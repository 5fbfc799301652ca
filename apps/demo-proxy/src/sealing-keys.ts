/**
 * The sealing keys of `sessions.sealingKeys`: each `{ id }` with its secret (base64 of 32
 * random bytes) inline, in an environment variable, or in a file. A secret is never taken from
 * a file every user of the machine can read: neither a `secretFile` nor a config file holding
 * an inline `secret` may be world-readable.
 */
import { readFileSync, statSync } from 'node:fs';
import { InvalidOptionsError, type OptionIssue } from '@mcp/connection-core';
import { z } from 'zod';
import { KEY_ID, SEALING_KEY_BYTES, type SealingKey } from './sealing.ts';

const keyId = z.string().regex(KEY_ID, 'letters, digits, "-" and "_" only (max 32)');

export const SealingKeyConfigSchema = z.union([
  z.strictObject({ id: keyId, secret: z.string().min(1) }),
  z.strictObject({ id: keyId, secretEnv: z.string().min(1) }),
  z.strictObject({ id: keyId, secretFile: z.string().min(1) }),
]);
export type SealingKeyConfig = z.output<typeof SealingKeyConfigSchema>;

/** The ring: unique ids, the first key seals. */
export const SealingKeysSchema = z
  .array(SealingKeyConfigSchema)
  .min(1, 'at least one key (the first seals)')
  .superRefine((keys, ctx) => {
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (seen.has(k.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate key id "${k.id}"` });
      seen.add(k.id);
    });
  });

const WHAT = 'proxy config';
const PATH = 'sessions.sealingKeys';

/** Reads every key's secret; throws InvalidOptionsError naming each key that fails. */
export function loadSealingKeys(
  keys: readonly SealingKeyConfig[],
  env: NodeJS.ProcessEnv = process.env,
): SealingKey[] {
  const issues: OptionIssue[] = [];
  const loaded: SealingKey[] = [];
  keys.forEach((k, i) => {
    const found = secretOf(k, env);
    const key = 'issue' in found ? undefined : decodeSecret(found.secret);
    if ('issue' in found)
      issues.push({ path: `${PATH}.${i}.${found.field}`, message: found.issue });
    else if (key === undefined)
      issues.push({
        path: `${PATH}.${i}.${found.field}`,
        message: `not base64 of ${SEALING_KEY_BYTES} bytes (make one: openssl rand -base64 32)`,
      });
    else loaded.push({ id: k.id, key });
  });
  if (issues.length > 0) throw new InvalidOptionsError(WHAT, issues);
  return loaded;
}

/**
 * At start-up, before anything listens: every key loads, and a config file holding an inline
 * secret is not readable by every user. Throws InvalidOptionsError.
 */
export function checkSealingKeys(
  configPath: string,
  keys: readonly SealingKeyConfig[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (keys === undefined) return;
  loadSealingKeys(keys, env);
  const inline = keys.findIndex((k) => 'secret' in k);
  if (inline === -1) return;
  const issue = worldReadable(configPath);
  if (issue)
    throw new InvalidOptionsError(WHAT, [
      { path: `${PATH}.${inline}.secret`, message: `inline secret in ${issue}` },
    ]);
}

type Found = { secret: string; field: string } | { issue: string; field: string };

function secretOf(k: SealingKeyConfig, env: NodeJS.ProcessEnv): Found {
  if ('secret' in k) return { secret: k.secret, field: 'secret' };
  if ('secretEnv' in k) {
    const value = env[k.secretEnv];
    if (value === undefined || value === '')
      return { issue: `environment variable ${k.secretEnv} is not set`, field: 'secretEnv' };
    return { secret: value, field: 'secretEnv' };
  }
  const issue = worldReadable(k.secretFile);
  if (issue) return { issue, field: 'secretFile' };
  return { secret: readFileSync(k.secretFile, 'utf8'), field: 'secretFile' };
}

/** Why `path` may not hold a secret (unreadable, world-readable), or undefined when it may. */
function worldReadable(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    return `${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if ((mode & 0o004) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return `${path}, which every user can read (mode ${octal}); chmod o-r it`;
}

function decodeSecret(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === SEALING_KEY_BYTES ? key : undefined;
}
