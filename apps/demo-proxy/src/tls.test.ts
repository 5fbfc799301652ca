import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createPoolConnector } from './pool-connector.ts';
import { type ProxyServer, startProxy } from './proxy.ts';
import { INITIALIZE, MCP_HEADERS } from './test-support.ts';
import { skipWithoutOpenssl, writeSelfSignedCertificate } from './test-tls.ts';

describe.skipIf(skipWithoutOpenssl)('TLS listener (ALPN: HTTP/2 and HTTP/1.1)', () => {
  let dir: string;
  let upstream: SdkServer;
  let proxy: ProxyServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-proxy-tls-'));
    const files = writeSelfSignedCertificate(dir);
    upstream = await startSdkServer({ http: 'h2c' });
    const config = parseProxyConfig({
      listen: { port: 0, tls: files },
      upstreams: [{ name: 'example', url: upstream.url, h2c: true }],
      logLevel: 'silent',
    });
    proxy = await startProxy({
      config,
      logger: createLogger('silent'),
      connector: createPoolConnector(config),
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers HTTP/2 negotiated by ALPN', async () => {
    expect(proxy.url).toMatch(/^https:/);
    const session = http2.connect(proxy.url, { rejectUnauthorized: false });
    try {
      const { status, text } = await new Promise<{ status: number; text: string }>(
        (resolve, reject) => {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/example/mcp',
            ...MCP_HEADERS,
          });
          let status = 0;
          let text = '';
          stream.setEncoding('utf8');
          stream.on('response', (h) => {
            status = Number(h[':status']);
          });
          stream.on('data', (c: string) => {
            text += c;
          });
          stream.on('end', () => resolve({ status, text }));
          stream.on('error', reject);
          stream.end(JSON.stringify(INITIALIZE));
        },
      );
      expect(status).toBe(200);
      expect(session.alpnProtocol).toBe('h2');
      expect(JSON.parse(text).result.serverInfo.name).toBe('example-upstream');
    } finally {
      session.close();
    }
  });

  it('answers HTTP/1.1 over TLS on the same port', async () => {
    const { status, version } = await new Promise<{ status: number; version: string }>(
      (resolve, reject) => {
        const req = https.request(
          `${proxy.url}/healthz`,
          { method: 'GET', rejectUnauthorized: false, agent: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(status).toBe(200);
    expect(version).toBe('1.1');
  });
});
