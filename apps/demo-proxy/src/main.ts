/**
 * demo-proxy: an MCP reverse proxy. `node src/main.ts --config proxy.yaml [--port N]`.
 * PORT in the environment overrides the file's port; `--port` overrides both.
 */
import { parseArgs } from 'node:util';
import { isMcpConnectionError } from '@mcp/connection-core';
import { scriptArgs } from './cli-args.ts';
import { loadConfigFile, overridePort, type ProxyConfig } from './config.ts';
import { logDestination } from './log-format.ts';
import { createProxyLogger, type Logger } from './logger.ts';
import { missingNodeFlags } from './node-flags.ts';
import { createPoolConnector } from './pool-connector.ts';
import { type ProxyServer, startProxy } from './proxy.ts';
import { checkSealingKeys } from './sealing-keys.ts';
import { takeCtrlCFromTerminal } from './terminal-keys.ts';
import { checkTlsFiles } from './tls-files.ts';

/** Starts the proxy for `config` and stops it gracefully on SIGINT/SIGTERM (exit 0). */
export async function runProxy(
  config: ProxyConfig,
  logger: Logger,
  onStopped?: () => Promise<void>,
): Promise<ProxyServer> {
  const proxy = await startProxy({ config, logger, connector: createPoolConnector(config) });
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    logger.warn({ missing }, 'node runs without the proxy flags of node-flags.ts: more memory');
  }
  logger.info(
    {
      url: proxy.url,
      upstreams: config.upstreams.map((u) => `${u.name} -> ${u.url}`),
      nodeFlags: process.execArgv,
    },
    'proxy listening',
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, drainTimeoutMs: config.limits.drainTimeoutMs }, 'shutting down');
    proxy
      .close()
      .then(async ({ drained }) => {
        await onStopped?.();
        logger.info({ drained }, 'stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  takeCtrlCFromTerminal();
  return proxy;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: scriptArgs(),
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || values.config === undefined) {
    console.log('usage: demo-proxy --config FILE [--port N]   (PORT env also overrides the port)');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  let config: ProxyConfig;
  let logger: Logger;
  try {
    config = await loadConfigFile(values.config);
    config = overridePort(config, values.port ?? process.env.PORT);
    if (config.listen.tls) checkTlsFiles(config.listen.tls);
    checkSealingKeys(values.config, config.sessions.sealingKeys);
    logger = createProxyLogger(config, logDestination(config.logFormat));
  } catch (err) {
    console.error(isMcpConnectionError(err) || err instanceof Error ? err.message : err);
    process.exitCode = 2;
    return;
  }
  await runProxy(config, logger);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
