/**
 * `pnpm demo:cluster`: the example upstream (SDK over h2c), three proxy replicas (processes)
 * sharing a sealing key generated for this run, and nginx in front of them on 127.0.0.1:8080
 * (--port). Kill a replica with kill -9 and watch the sessions go on through the others.
 */
import { parseArgs } from 'node:util';
import { startSdkServer } from '@mcp/test-fixtures';
import { scriptArgs } from '../cli-args.ts';
import { DEMO_UPSTREAM_PORT } from '../demo-banner.ts';
import { takeCtrlCFromTerminal } from '../terminal-keys.ts';
import { type RunningNginx, startNginx } from './nginx.ts';
import { newSealingSecret, type Replica, startReplica } from './replicas.ts';

const REPLICAS = 3;

async function demoCluster(): Promise<void> {
  const { values } = parseArgs({
    args: scriptArgs(),
    options: {
      port: { type: 'string', short: 'p', default: process.env.PORT ?? '8080' },
      'upstream-port': { type: 'string', default: String(DEMO_UPSTREAM_PORT) },
    },
  });
  const upstream = await startSdkServer({ http: 'h2c', port: Number(values['upstream-port']) });
  const keys = [newSealingSecret('demo')];
  const replicas: Replica[] = [];
  let nginx: RunningNginx | undefined;
  const stop = async (): Promise<void> => {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await nginx?.stop();
    await upstream.close();
  };
  try {
    for (let i = 0; i < REPLICAS; i++) {
      replicas.push(await startReplica({ upstreamUrl: upstream.url, keys, logLevel: 'info' }));
    }
    nginx = await startNginx(
      replicas.map((r) => `127.0.0.1:${r.port}`),
      Number(values.port),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  takeCtrlCFromTerminal();
  process.stderr.write(clusterBanner(upstream.url, nginx, replicas));
}

export function clusterBanner(
  upstreamUrl: string,
  nginx: RunningNginx,
  replicas: readonly Replica[],
): string {
  const endpoint = `${nginx.url}/example/mcp`;
  const first = replicas[0];
  return [
    '',
    `  example upstream (MCP SDK over h2c): ${upstreamUrl}`,
    ...replicas.map((r, i) => `  replica ${i + 1}: ${r.url}  (pid ${r.pid})`),
    `  nginx (round robin, no stickiness, pid ${nginx.pid}): ${endpoint}`,
    '',
    `  Connect any MCP client (Streamable HTTP) to ${endpoint}.`,
    '  Every replica holds the same sealing key (made for this run): the Mcp-Session-Id is a sealed',
    '  token, so any replica serves any request of any session, with nothing shared between them.',
    `  Kill one: kill -9 ${first?.pid ?? '<pid>'}   (calls in flight on it fail; the sessions go on through the others)`,
    `  Load it:  npx -y pnpm@12.21.0 demo:load -- --url ${endpoint}`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n');
}

demoCluster().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
