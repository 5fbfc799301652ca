import { InvalidOptionsError } from '@mcp/connection-core';

/**
 * The origin a URL belongs to: scheme, host and port (default ports left out), the key of one
 * shared dispatcher. Only http: and https: URLs are accepted.
 */
export function originOf(url: string): string {
  return parseEndpoint(url).origin;
}

/** An MCP endpoint URL, normalized (`href`), and its origin. Throws InvalidOptionsError. */
export function parseEndpoint(url: string): { origin: string; href: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidOptionsError('url', [{ path: 'url', message: 'not a URL' }], { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidOptionsError('url', [
      { path: 'url', message: `unsupported scheme ${parsed.protocol}; expected http: or https:` },
    ]);
  }
  return { origin: parsed.origin, href: parsed.href };
}
