import { type DestinationStream, type Logger, pino } from 'pino';
import type { ProxyConfig } from './config.ts';

export type { Logger };

const CENSOR = '[redacted]';

/** Paths whose values never reach the logs. */
export const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["mcp-session-id"]',
  'headers["proxy-authorization"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["mcp-session-id"]',
  'sessionId',
  '*.sessionId',
];

/** Response headers of an upstream error that are never logged, whatever the config says. */
const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'mcp-session-id',
];

/**
 * Header names a proxy with `config` must keep out of its logs besides the usual ones: the
 * upstreams' configured headers (API keys) and the session binding header.
 */
export function secretHeaderNames(config: ProxyConfig): string[] {
  const names = config.upstreams.flatMap((u) => Object.keys(u.headers));
  return [...names, config.sessions.bindingHeader];
}

/**
 * pino's error serializer, minus what an upstream error carries that may be secret: the
 * headers named in `secretHeaders` (plus cookies and credentials) and the body excerpt (an
 * upstream's error page can hold tokens or personal data; its length is kept).
 */
export function redactingErrorSerializer(
  secretHeaders: readonly string[],
): (err: Error) => Record<string, unknown> {
  const secret = new Set([...SECRET_HEADERS, ...secretHeaders.map((h) => h.toLowerCase())]);
  return (err) => {
    const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
    const headers = out.headers;
    if (headers !== null && typeof headers === 'object') {
      const kept: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(headers)) {
        kept[name] = secret.has(name.toLowerCase()) ? CENSOR : value;
      }
      out.headers = kept;
    }
    if (typeof out.bodyExcerpt === 'string') {
      out.bodyExcerpt = `${CENSOR} (${out.bodyExcerpt.length} characters)`;
    }
    return out;
  };
}

/**
 * Structured JSON logs on stdout (or `destination`), with secrets redacted: credentials and
 * session ids wherever they appear, and on errors, `secretHeaders` and upstream bodies.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  secretHeaders: readonly string[] = [],
): Logger {
  const options = {
    level,
    base: { app: 'demo-proxy' },
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { err: redactingErrorSerializer(secretHeaders) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The logger for a proxy running `config`. */
export function createProxyLogger(config: ProxyConfig, destination?: DestinationStream): Logger {
  return createLogger(config.logLevel, destination, secretHeaderNames(config));
}
