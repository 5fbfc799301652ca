import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/** Paths whose values never reach the logs. */
export const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["mcp-session-id"]',
  'headers["proxy-authorization"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["mcp-session-id"]',
  'sessionId',
  '*.sessionId',
];

/** Structured JSON logs on stdout (or `destination`), with secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { app: 'demo-proxy' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
