import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionsError } from '@mcp/connection-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile, overridePort, parseProxyConfig } from './config.ts';
import { DEMO_UPSTREAM_PORT } from './demo-banner.ts';

describe('proxy config', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-proxy-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fills defaults from a minimal config', () => {
    const config = parseProxyConfig({
      upstreams: [{ name: 'a', url: 'http://127.0.0.1:9000/mcp' }],
    });
    expect(config.listen).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.upstreams[0]).toMatchObject({
      h2c: false,
      forwardAuthorization: false,
      headers: {},
    });
    expect(config.limits.maxBodyBytes).toBe(1_048_576);
  });

  it('gives every edge limit a default, and refuses a write timeout no longer than a request may wait', () => {
    const upstreams = [{ name: 'a', url: 'http://127.0.0.1:9000/mcp' }];
    const config = parseProxyConfig({ upstreams });
    expect(config.edge).toMatchObject({ maxConnections: 4096, writeTimeoutMs: 90_000 });
    expect(config.limits.maxTotalTimeoutMs).toBe(600_000);
    let error: unknown;
    try {
      parseProxyConfig({ upstreams, limits: { requestTimeoutMs: 120_000 } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(String((error as Error).message)).toContain('edge.writeTimeoutMs');
  });

  it('binds sessions to Authorization by default, and checks the session options', () => {
    const upstreams = [{ name: 'a', url: 'http://127.0.0.1:9000/mcp' }];
    expect(parseProxyConfig({ upstreams }).sessions).toEqual({
      bindingHeader: 'authorization',
      maxSessionsPerClient: 64,
      streamIdleTimeoutMs: 3_600_000,
      tokenMaxAgeMs: 86_400_000,
    });
    const custom = parseProxyConfig({ upstreams, sessions: { bindingHeader: 'X-Client-Id' } });
    expect(custom.sessions.bindingHeader).toBe('x-client-id');
    expect(() =>
      parseProxyConfig({ upstreams, sessions: { bindingHeader: 'bad header' } }),
    ).toThrow(/sessions\.bindingHeader/);
    expect(() => parseProxyConfig({ upstreams, sessions: { maxSessionsPerClient: 0 } })).toThrow(
      /sessions\.maxSessionsPerClient/,
    );
    expect(() => parseProxyConfig({ upstreams, sessions: { tokenMaxAgeMs: 0 } })).toThrow(
      /sessions\.tokenMaxAgeMs/,
    );
  });

  it('reads YAML and JSON files', async () => {
    const yamlPath = join(dir, 'proxy.yaml');
    await writeFile(
      yamlPath,
      'listen:\n  port: 9090\nupstreams:\n  - name: x\n    url: http://127.0.0.1:1/mcp\n    h2c: true\n',
    );
    expect((await loadConfigFile(yamlPath)).upstreams[0]?.h2c).toBe(true);
    const jsonPath = join(dir, 'proxy.json');
    await writeFile(jsonPath, JSON.stringify({ upstreams: [{ name: 'y', url: 'https://h/mcp' }] }));
    expect((await loadConfigFile(jsonPath)).upstreams[0]?.name).toBe('y');
  });

  it('fails fast naming the bad field', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      'upstreams:\n  - name: ok\n    url: ftp://nope\nlimits:\n  maxBodyBytes: -1\n',
    );
    const err = await loadConfigFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    const paths = (err as InvalidOptionsError).issues.map((i) => i.path);
    expect(paths).toContain('upstreams.0.url');
    expect(paths).toContain('limits.maxBodyBytes');
    expect((err as Error).message).toMatch(/upstreams\.0\.url/);
  });

  it('rejects unknown fields, duplicate names and bad YAML', async () => {
    expect(() =>
      parseProxyConfig({ upstreams: [{ name: 'a', url: 'http://h/mcp', bogus: 1 }] }),
    ).toThrow(/upstreams\.0/);
    expect(() =>
      parseProxyConfig({
        upstreams: [
          { name: 'a', url: 'http://h/mcp' },
          { name: 'a', url: 'http://i/mcp' },
        ],
      }),
    ).toThrow(/upstreams\.1\.name: duplicate/);
    expect(() => parseProxyConfig({ upstreams: [] })).toThrow(/upstreams/);
    const path = join(dir, 'broken.yaml');
    await writeFile(path, 'upstreams: [\n');
    await expect(loadConfigFile(path)).rejects.toThrow(InvalidOptionsError);
  });

  it('lets --port / PORT override the file', () => {
    const config = parseProxyConfig({ upstreams: [{ name: 'a', url: 'http://h/mcp' }] });
    expect(overridePort(config, '9999').listen.port).toBe(9999);
    expect(overridePort(config, undefined).listen.port).toBe(8080);
    expect(() => overridePort(config, 'abc')).toThrow(/listen\.port/);
  });
});

describe('proxy.example.yaml', () => {
  it('is valid and points at the demo’s example upstream (127.0.0.1:3001)', async () => {
    const config = await loadConfigFile(new URL('../proxy.example.yaml', import.meta.url).pathname);
    expect(config.upstreams.map((u) => u.url)).toEqual([
      `http://127.0.0.1:${DEMO_UPSTREAM_PORT}/mcp`,
    ]);
    expect(config.logFormat).toBe('auto');
  });
});
