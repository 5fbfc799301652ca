import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { logDestination, resolveLogFormat } from './log-format.ts';
import { createLogger } from './logger.ts';

describe('the log format', () => {
  it('is readable on a terminal, JSON when not a TTY or in production', () => {
    expect(resolveLogFormat('auto', { isTTY: true, env: {} })).toBe('pretty');
    expect(resolveLogFormat('auto', { isTTY: false, env: {} })).toBe('json');
    expect(resolveLogFormat('auto', { isTTY: true, env: { NODE_ENV: 'production' } })).toBe('json');
  });

  it('follows the config, and LOG_FORMAT over it', () => {
    expect(resolveLogFormat('json', { isTTY: true, env: {} })).toBe('json');
    expect(resolveLogFormat('pretty', { isTTY: false, env: {} })).toBe('pretty');
    expect(resolveLogFormat('pretty', { isTTY: false, env: { LOG_FORMAT: 'json' } })).toBe('json');
    expect(() => resolveLogFormat('auto', { isTTY: true, env: { LOG_FORMAT: 'yaml' } })).toThrow(
      /json.*pretty|pretty.*json/,
    );
  });

  it('writes one line per event with the message and its fields, secrets still redacted', () => {
    const output = new PassThrough();
    let text = '';
    output.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    const destination = logDestination('pretty', { isTTY: false, env: {} }, output);
    const logger = createLogger('info', destination);
    logger.info(
      { upstream: 'example', headers: { authorization: 'Bearer secret' } },
      'session started',
    );
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: session started \{.*"upstream":"example"/,
    );
    expect(text).not.toContain('secret');
    expect(text).not.toMatch(/^\{"level"/);
  });

  it('leaves JSON lines (pino) as they are when not pretty', () => {
    expect(logDestination('json', { isTTY: true, env: {} })).toBeUndefined();
  });
});
