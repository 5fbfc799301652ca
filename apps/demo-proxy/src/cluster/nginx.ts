/**
 * nginx as the load balancer in front of proxy replicas: round robin, no stickiness, SSE passed
 * through unbuffered. `nginxSite` is the `http`-level snippet deploy/nginx/mcp-replicas.conf
 * holds; `startNginx` runs it unprivileged from a temp dir, as the cluster test and
 * `demo:cluster` do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, stopChild } from './processes.ts';

export interface NginxSiteOptions {
  /** `host:port` nginx listens on. */
  listen: string;
  /** `host:port` of each replica. */
  replicas: readonly string[];
}

/** The `http`-context configuration: the replicas' upstream and the server in front of them. */
export function nginxSite({ listen, replicas }: NginxSiteOptions): string {
  const servers = replicas.map((r) => `    server ${r} max_fails=0;`);
  return `# MCP proxy replicas behind nginx: round robin, no stickiness (sealed session ids let any
# replica serve any request), SSE passed through unbuffered.
# max_fails=0: a replica is never taken out for a while; one that is down refuses the
# connection and the request goes to the next (no moment where every replica counts as down,
# as after a rolling restart with max_fails=1).
upstream mcp_replicas {
${servers.join('\n')}
    keepalive 64;
}

server {
    listen ${listen};

    location / {
        proxy_pass http://mcp_replicas;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        # The replicas trust this nginx (listen.realIpFrom: [its address]) and count sessions
        # per client by the right-most X-Forwarded-For entry that is not a trusted proxy.
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        # SSE: every event goes out as it comes, and a stream may stay open for long.
        proxy_buffering off;
        proxy_request_buffering off;
        proxy_cache off;
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
        # A replica that refuses or drops connections is skipped; a request already sent is
        # not sent again (a POST is not idempotent), so its client sees the error.
        proxy_next_upstream error timeout;
        proxy_connect_timeout 2s;
        # Which replica answered (for tests and curious operators).
        add_header X-Mcp-Replica $upstream_addr always;
    }
}
`;
}

/** A whole configuration that runs unprivileged from `dir` (pid, logs, temp files in it). */
export function nginxMain(dir: string, site: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `    ${t}_temp_path ${join(dir, 'tmp', t)};`)
    .join('\n');
  // As root nginx would run its workers as nobody, who cannot use the temp dir.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr notice;
events { worker_connections 4096; }
http {
    access_log off;
${temp}
${site.replace(/^(?=.)/gm, '    ')}}
`;
}

export interface RunningNginx {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Stops nginx (SIGTERM, then its exit) and removes its temp dir. */
  stop(): Promise<void>;
}

/** The nginx binary: NGINX, else on PATH, else Debian's /usr/sbin/nginx. */
export function nginxBinary(): string | undefined {
  if (process.env.NGINX) return process.env.NGINX;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin'];
  return dirs.map((d) => join(d, 'nginx')).find((p) => existsSync(p));
}

/** Starts nginx in front of `replicas` on 127.0.0.1 (`port` 0: a free one); resolves once it serves. */
export async function startNginx(replicas: readonly string[], port = 0): Promise<RunningNginx> {
  const binary = nginxBinary();
  if (binary === undefined) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'mcp-nginx-'));
  await mkdir(join(dir, 'tmp'));
  const listenPort = port === 0 ? await freePort() : port;
  const site = nginxSite({ listen: `127.0.0.1:${listenPort}`, replicas });
  await writeFile(join(dir, 'nginx.conf'), nginxMain(dir, site));
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    await workersStarted(child);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${listenPort}`,
    port: listenPort,
    pid: child.pid ?? 0,
    async stop() {
      await stopChild(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when nginx logs that its worker started (it listens by then); rejects if it exits. */
function workersStarted(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    let started = false;
    const onExit = (): void => reject(new Error(`nginx did not start:\n${seen.join('\n')}`));
    child.once('exit', onExit);
    // Read to the end, so nginx never blocks on a full pipe.
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      if (started) return;
      seen.push(line);
      if (!line.includes('start worker process')) return;
      started = true;
      child.off('exit', onExit);
      resolve();
    });
  });
}
