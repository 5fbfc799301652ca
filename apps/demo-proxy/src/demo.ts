/**
 * The embedded demo: one process runs the example upstream MCP server (SDK, cleartext HTTP/2)
 * on 127.0.0.1:3001 (--upstream-port override; proxy.example.yaml points there) and the proxy in
 * front of it on 127.0.0.1:8080 (PORT / --port override), serving it at /example/mcp.
 */
import { parseArgs } from 'node:util';
import { startSdkServer } from '@mcp/test-fixtures';
import { scriptArgs } from './cli-args.ts';
import { overridePort, parseProxyConfig } from './config.ts';
import { DEMO_UPSTREAM_PORT, demoBanner } from './demo-banner.ts';
import { logDestination } from './log-format.ts';
import { createLogger } from './logger.ts';
import { runProxy } from './main.ts';

async function demo(): Promise<void> {
  const { values } = parseArgs({
    args: scriptArgs(),
    options: {
      port: { type: 'string', short: 'p' },
      'upstream-port': { type: 'string', default: String(DEMO_UPSTREAM_PORT) },
    },
  });
  const upstream = await startSdkServer({ http: 'h2c', port: Number(values['upstream-port']) });
  const config = overridePort(
    parseProxyConfig({
      listen: { host: '127.0.0.1', port: 8080 },
      upstreams: [{ name: 'example', url: upstream.url, h2c: true }],
      pool: { connectionsPerOrigin: 2 },
      logLevel: process.env.LOG_LEVEL ?? 'info',
    }),
    values.port ?? process.env.PORT,
  );
  const logger = createLogger(config.logLevel, logDestination(config.logFormat));
  const proxy = await runProxy(config, logger, () => upstream.close());
  process.stderr.write(demoBanner(upstream.url, proxy.url));
}

demo().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
