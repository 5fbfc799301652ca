/**
 * What the logs keep of a failing upstream (issue #13, item 5): an upstream 500 carrying a
 * cookie, a token header and a body with secrets is logged with its status and header names,
 * never their secret values or the body.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProxyConfig } from './config.ts';
import { createProxyLogger } from './logger.ts';
import { createPoolConnector } from './pool-connector.ts';
import { type ProxyServer, startProxy } from './proxy.ts';
import { INITIALIZE, MCP_HEADERS, raw } from './test-support.ts';

const SECRETS = {
  cookie: 'sid=cookie-secret-1',
  token: 'token-secret-2',
  body: 'body-secret-3',
  configured: 'configured-secret-4',
  binding: 'Bearer binding-secret-5',
};

/** An upstream that answers every request with 500, a cookie, an echoed key and a secret body. */
async function startFailingUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(500, {
      'content-type': 'text/plain',
      'set-cookie': SECRETS.cookie,
      'x-session-token': SECRETS.token,
      // An upstream that echoes the key the proxy sends it.
      'x-api-key': String(req.headers['x-api-key']),
      'x-trace': 'not-secret',
    });
    res.end(`internal error; db password=${SECRETS.body}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('log redaction', () => {
  let proxy: ProxyServer | undefined;
  let upstream: Awaited<ReturnType<typeof startFailingUpstream>> | undefined;
  afterEach(async () => {
    await proxy?.close();
    await upstream?.close();
    proxy = undefined;
    upstream = undefined;
  });

  it('logs an upstream 500 without its cookie, token headers, configured headers or body', async () => {
    upstream = await startFailingUpstream();
    const config = parseProxyConfig({
      listen: { host: '127.0.0.1', port: 0 },
      upstreams: [
        {
          name: 'failing',
          url: upstream.url,
          headers: { 'X-Api-Key': SECRETS.configured, 'x-session-token': 'sent-too' },
        },
      ],
      logLevel: 'warn',
    });
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    proxy = await startProxy({
      config,
      logger: createProxyLogger(config, destination),
      connector: createPoolConnector(config),
    });
    const res = await raw(`${proxy.url}/failing/mcp`, {
      headers: { ...MCP_HEADERS, authorization: SECRETS.binding },
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(502);

    const failed = lines.map((l) => JSON.parse(l)).find((e) => e.msg === 'upstream request failed');
    expect(failed?.err?.status).toBe(500);
    expect(failed?.err?.headers?.['x-trace']).toBe('not-secret');
    for (const name of ['set-cookie', 'x-session-token', 'x-api-key'])
      expect(failed?.err?.headers?.[name]).toBe('[redacted]');
    expect(failed?.err?.bodyExcerpt).toMatch(/^\[redacted\] \(\d+ characters\)$/);
    const text = lines.join('');
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });
});
