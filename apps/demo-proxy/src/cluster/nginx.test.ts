import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nginxBinary, nginxMain, nginxSite } from './nginx.ts';

const DEPLOYED = new URL('../../../../deploy/nginx/mcp-replicas.conf', import.meta.url);
const EXAMPLE = {
  listen: '8080',
  replicas: ['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080'],
};

describe('the nginx configuration', () => {
  it('in deploy/nginx is the one the cluster test and demo:cluster run', async () => {
    expect(await readFile(DEPLOYED, 'utf8')).toBe(nginxSite(EXAMPLE));
  });

  it('passes nginx -t, and keeps SSE unbuffered with no stickiness', async () => {
    const site = nginxSite(EXAMPLE);
    expect(site).toMatch(/proxy_buffering off;/);
    expect(site).not.toMatch(/\b(ip_hash|hash|sticky|least_conn)\b/);
    const dir = await mkdtemp(join(tmpdir(), 'nginx-t-'));
    try {
      await mkdir(join(dir, 'tmp'));
      await writeFile(join(dir, 'nginx.conf'), nginxMain(dir, site));
      const binary = nginxBinary();
      expect(binary, 'nginx is installed (apt-get install -y nginx)').toBeDefined();
      const { stderr } = await promisify(execFile)(binary as string, [
        '-t',
        '-p',
        dir,
        '-c',
        join(dir, 'nginx.conf'),
      ]);
      expect(stderr).toContain('test is successful');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
