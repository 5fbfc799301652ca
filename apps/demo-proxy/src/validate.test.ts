import { describe, expect, it } from 'vitest';
import { EventBuffer } from './event-buffer.ts';
import {
  acceptedFormats,
  checkAccept,
  checkContentType,
  checkRebinding,
  isLoopbackAddress,
} from './validate.ts';

const guard = {
  enabled: true,
  allowedHosts: ['proxy.internal'],
  allowedOrigins: ['https://app.example'],
};

describe('request checks', () => {
  it('knows loopback addresses', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('localhost')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
  });

  it('guards against DNS rebinding on Host and Origin', () => {
    expect(checkRebinding(guard, '127.0.0.1:8080', undefined)).toBeUndefined();
    expect(checkRebinding(guard, 'localhost:8080', 'http://localhost:3000')).toBeUndefined();
    expect(checkRebinding(guard, '[::1]:8080', undefined)).toBeUndefined();
    expect(checkRebinding(guard, 'proxy.internal:8080', 'https://app.example')).toBeUndefined();
    expect(checkRebinding(guard, 'evil.example', undefined)?.status).toBe(403);
    expect(checkRebinding(guard, '127.0.0.1:8080', 'https://evil.example')?.status).toBe(403);
    expect(checkRebinding(guard, '127.0.0.1:8080', 'null')?.status).toBe(403);
    expect(
      checkRebinding({ ...guard, enabled: false }, 'evil.example', 'https://evil.example'),
    ).toBeUndefined();
  });

  it('reads Accept', () => {
    expect(acceptedFormats('application/json, text/event-stream')).toEqual({
      json: true,
      sse: true,
    });
    expect(acceptedFormats('text/event-stream')).toEqual({ json: false, sse: true });
    expect(acceptedFormats('*/*')).toEqual({ json: true, sse: true });
    expect(acceptedFormats(undefined)).toEqual({ json: true, sse: true });
    expect(acceptedFormats('application/json;q=0, text/html')).toEqual({ json: false, sse: false });
    expect(checkAccept(acceptedFormats('text/html'), 'POST')?.status).toBe(406);
    expect(checkAccept(acceptedFormats('application/json'), 'GET')?.status).toBe(406);
    expect(checkAccept(acceptedFormats('application/json'), 'POST')).toBeUndefined();
  });

  it('needs application/json bodies', () => {
    expect(checkContentType('application/json; charset=utf-8')).toBeUndefined();
    expect(checkContentType('text/plain')?.status).toBe(415);
    expect(checkContentType(undefined)?.status).toBe(415);
  });
});

describe('EventBuffer', () => {
  it('keeps the last N events and replays after an id', () => {
    const buffer = new EventBuffer(3);
    expect(buffer.lastId).toBe('0');
    for (let i = 1; i <= 5; i++) buffer.push({ jsonrpc: '2.0', method: `m${i}` });
    expect(buffer.size).toBe(3);
    expect(buffer.lastId).toBe('5');
    expect(buffer.after('0').map((e) => e.id)).toEqual(['3', '4', '5']);
    expect(buffer.after('3').map((e) => e.id)).toEqual(['4', '5']);
    expect(buffer.after('1').map((e) => e.id)).toEqual(['3', '4', '5']);
    expect(buffer.after('junk').map((e) => e.id)).toEqual(['3', '4', '5']);
    expect(buffer.after(undefined)).toEqual([]);
  });
});
