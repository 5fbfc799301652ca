import { describe, expect, it } from 'vitest';
import {
  BODY_EXCERPT_LIMIT,
  ConnectionClosedError,
  ErrorCode,
  HttpStatusError,
  InvalidOptionsError,
  isMcpConnectionError,
  McpConnectionError,
  OriginBusyError,
  ProtocolError,
  SessionExpiredError,
  SessionLimitError,
  TimeoutError,
  UnexpectedContentTypeError,
} from './errors.ts';

describe('errors', () => {
  it('keep a stable code, a name, and the cause as cause', () => {
    const cause = new Error('socket hang up');
    const err = new ConnectionClosedError('closed by peer', { cause });
    expect(err).toBeInstanceOf(McpConnectionError);
    expect(err.code).toBe('MCP_CONNECTION_CLOSED');
    expect(err.name).toBe('ConnectionClosedError');
    expect(err.cause).toBe(cause);
    expect(err.message).not.toContain('socket hang up');
  });

  it('bound the body excerpt of an HTTP status error', () => {
    const err = new HttpStatusError(500, { 'content-type': 'text/plain' }, 'x'.repeat(10_000));
    expect(err.bodyExcerpt).toHaveLength(BODY_EXCERPT_LIMIT);
    expect(err.status).toBe(500);
    expect(err.retryable).toBe(false);
    expect(new HttpStatusError(503, {}, '').retryable).toBe(true);
  });

  it('group protocol errors under ProtocolError', () => {
    const err = new UnexpectedContentTypeError('text/html', 'application/json');
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe(ErrorCode.UNEXPECTED_CONTENT_TYPE);
    expect(err.message).toContain('"text/html"');
  });

  it('name each bad option', () => {
    const err = new InvalidOptionsError('options', [{ path: 'url', message: 'Invalid URL' }]);
    expect(err.message).toBe('Invalid options: url: Invalid URL');
  });

  it('are recognised across copies by their code', () => {
    const foreign = Object.assign(new Error('x'), { code: 'MCP_TIMEOUT' });
    expect(isMcpConnectionError(foreign)).toBe(true);
    expect(isMcpConnectionError(new TimeoutError(5))).toBe(true);
    expect(isMcpConnectionError(new SessionExpiredError('s'))).toBe(true);
    expect(isMcpConnectionError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isMcpConnectionError('MCP_TIMEOUT')).toBe(false);
  });

  it('have distinct codes', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('name the origin and limit of a session limit error', () => {
    const err = new SessionLimitError('http://127.0.0.1:8080', 2);
    expect(err.code).toBe(ErrorCode.SESSION_LIMIT);
    expect(err.name).toBe('SessionLimitError');
    expect(err.retryable).toBe(true);
    expect(err.origin).toBe('http://127.0.0.1:8080');
    expect(err.limit).toBe(2);
    expect(isMcpConnectionError(err)).toBe(true);
  });

  it('name the origin, the budget and the wait of an origin busy error', () => {
    const err = new OriginBusyError({
      origin: 'http://127.0.0.1:8080',
      reason: 'queue-timeout',
      limitName: 'maxHttp1SocketsPerOrigin',
      limit: 256,
      waitedMs: 5000,
    });
    expect(err.code).toBe(ErrorCode.ORIGIN_BUSY);
    expect(err.name).toBe('OriginBusyError');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('maxHttp1SocketsPerOrigin = 256');
    expect(err.message).toContain('http://127.0.0.1:8080');
    expect([err.reason, err.limit, err.waitedMs]).toEqual(['queue-timeout', 256, 5000]);
    expect(isMcpConnectionError(err)).toBe(true);
  });
});
