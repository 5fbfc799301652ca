/**
 * How the logs look: JSON lines (pino) for machines, one readable line per event for a person at
 * a terminal. `auto` picks readable lines when stdout is a TTY and NODE_ENV is not `production`;
 * `LOG_FORMAT=json|pretty` in the environment wins over the config's `logFormat`.
 */
import type { DestinationStream } from 'pino';
import { build } from 'pino-pretty';
import { z } from 'zod';

export const LogFormatSchema = z.enum(['auto', 'json', 'pretty']);
export type LogFormat = z.infer<typeof LogFormatSchema>;

export interface LogFormatContext {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** The format to use: `json` or `pretty`. A bad `LOG_FORMAT` throws, naming the choices. */
export function resolveLogFormat(
  configured: LogFormat,
  { isTTY, env }: LogFormatContext = { isTTY: process.stdout.isTTY === true, env: process.env },
): 'json' | 'pretty' {
  const chosen = env.LOG_FORMAT === undefined ? configured : LogFormatSchema.parse(env.LOG_FORMAT);
  if (chosen !== 'auto') return chosen;
  return isTTY && env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

/** A destination for `createLogger`: undefined (pino's JSON on stdout) or readable lines. */
export function logDestination(
  configured: LogFormat,
  context?: LogFormatContext,
  output: NodeJS.WritableStream = process.stdout,
): DestinationStream | undefined {
  if (resolveLogFormat(configured, context) === 'json') return undefined;
  return build({
    destination: output,
    sync: true, // every line is out before a shutdown's process.exit()
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app',
    colorize: output === process.stdout && process.stdout.isTTY === true,
  });
}
