import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { clientAddressOf } from './client-address.ts';
import { parseProxyConfig } from './config.ts';
import type { DownstreamRequest } from './http-types.ts';
import { type Harness, INITIALIZE, MCP_HEADERS, raw, startHarness } from './test-support.ts';

const from = (remoteAddress: string, headers: IncomingHttpHeaders = {}) =>
  ({ headers, socket: { remoteAddress } }) as unknown as DownstreamRequest;

describe('client address (listen.realIpFrom)', () => {
  it('takes the right-most untrusted X-Forwarded-For hop, only from a trusted peer', () => {
    const address = clientAddressOf(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    const xff = (value: string) => ({ 'x-forwarded-for': value });
    expect(address(from('127.0.0.1', xff('203.0.113.7')))).toBe('203.0.113.7');
    // Left of the first untrusted hop, anything the client wrote is ignored.
    expect(address(from('10.1.2.3', xff('1.1.1.1, 203.0.113.7, 10.9.9.9')))).toBe('203.0.113.7');
    expect(address(from('::ffff:127.0.0.1', xff('2001:db8::1')))).toBe('2001:db8::1');
    expect(address(from('fd00::5', xff('198.51.100.1')))).toBe('198.51.100.1');
    // Every hop trusted: the left-most; a malformed hop stops the walk at the one right of it.
    expect(address(from('10.0.0.1', xff('10.0.0.2, 10.0.0.3')))).toBe('10.0.0.2');
    expect(address(from('10.0.0.1', xff('203.0.113.7, not-an-ip, 10.0.0.3')))).toBe('10.0.0.3');
    expect(address(from('10.0.0.1', xff('garbage')))).toBe('10.0.0.1');
    // An untrusted peer, or no header: the peer.
    expect(address(from('192.0.2.1', xff('203.0.113.7')))).toBe('192.0.2.1');
    expect(address(from('10.0.0.1'))).toBe('10.0.0.1');
    expect(clientAddressOf([])(from('127.0.0.1', xff('203.0.113.7')))).toBe('127.0.0.1');
  });

  it('accepts addresses and CIDR blocks only', () => {
    const upstreams = [{ name: 'a', url: 'http://127.0.0.1:9000/mcp' }];
    const listen = (realIpFrom: string[]) => ({ listen: { realIpFrom }, upstreams });
    expect(parseProxyConfig(listen(['10.0.0.0/8', '::1', 'fd00::/8'])).listen.realIpFrom).toEqual([
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
    ]);
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.0/', '1.2.3.4/8/1']) {
      expect(() => parseProxyConfig(listen([bad]))).toThrow(/listen\.realIpFrom/);
    }
  });
});

describe('per-client session quota behind a trusted proxy', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const initialize = (endpoint: string, forwardedFor: string) =>
    raw(endpoint, {
      headers: { ...MCP_HEADERS, 'x-forwarded-for': forwardedFor },
      body: JSON.stringify(INITIALIZE),
    }).then((r) => r.status);

  it('counts each forwarded client apart when the peer is trusted, and the peer otherwise', async () => {
    const listen = { host: '127.0.0.1', port: 0 };
    const sessions = { maxSessionsPerClient: 1 };
    harness = await startHarness(
      {},
      { listen: { ...listen, realIpFrom: ['127.0.0.1'] }, sessions },
    );
    const trusted = harness.endpoint;
    expect(await initialize(trusted, '203.0.113.1')).toBe(200);
    expect(await initialize(trusted, '203.0.113.2')).toBe(200);
    expect(await initialize(trusted, '203.0.113.1')).toBe(429);
    await harness.close();
    harness = await startHarness({}, { listen, sessions });
    expect(await initialize(harness.endpoint, '203.0.113.1')).toBe(200);
    expect(await initialize(harness.endpoint, '203.0.113.2')).toBe(429);
  });
});
