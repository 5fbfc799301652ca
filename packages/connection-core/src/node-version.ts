import { UnsupportedNodeError } from './errors.ts';

/** The oldest Node.js these packages run on (undici 8 needs it), as `engines.node` says. */
export const MIN_NODE_VERSION = '22.19.0';

function parts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** Whether `version` (`22.19.0` or `v22.19.0`) is at least MIN_NODE_VERSION. */
export function isSupportedNode(version: string): boolean {
  const have = parts(version);
  const need = parts(MIN_NODE_VERSION);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** Throws UnsupportedNodeError when `version` is older than MIN_NODE_VERSION. */
export function assertSupportedNode(version: string = process.versions.node): void {
  if (!isSupportedNode(version)) throw new UnsupportedNodeError(MIN_NODE_VERSION, version);
}
