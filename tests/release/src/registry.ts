/**
 * A throwaway npm registry: Verdaccio in this process, on 127.0.0.1 and a port the OS picks,
 * storage and users in `dir`. `@mcp/*` exists only here (published by the test); everything else
 * is proxied from the public registry (undici, zod, @types/node, ...).
 */
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runServer } from 'verdaccio';

export interface LocalRegistry {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** A token of a user allowed to publish `@mcp/*`. */
  readonly token: string;
  close(): Promise<void>;
}

const UPLINK = 'https://registry.npmjs.org/';

function configYaml(dir: string): string {
  return [
    `storage: ${JSON.stringify(path.join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(path.join(dir, 'htpasswd'))}`,
    'uplinks:',
    '  public:',
    `    url: ${UPLINK}`,
    '    timeout: 60s',
    'packages:',
    "  '@mcp/*':",
    '    access: $all',
    '    publish: $authenticated',
    "  '**':",
    '    access: $all',
    '    proxy: public',
    'log: { type: stdout, format: pretty, level: error }',
    '',
  ].join('\n');
}

async function addUser(url: string): Promise<string> {
  const name = 'release-test';
  const response = await fetch(new URL(`-/user/org.couchdb.user:${name}`, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: `pw-${process.pid}-${Date.now()}` }),
  });
  const body = (await response.json()) as { token?: string };
  if (!response.ok || body.token === undefined) {
    throw new Error(`Verdaccio refused the user: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.token;
}

/** Starts the registry; resolves once it listens and a publishing user exists. */
export async function startRegistry(dir: string): Promise<LocalRegistry> {
  await mkdir(dir, { recursive: true });
  const configPath = path.join(dir, 'config.yaml');
  await writeFile(configPath, configYaml(dir));
  const app = await runServer(configPath);
  const server = app.listen(0, '127.0.0.1') as Server;
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const token = await addUser(url);
  return {
    url,
    token,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
