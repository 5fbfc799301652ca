/**
 * The embedded demo: one process runs the example upstream MCP server (SDK, cleartext HTTP/2)
 * and the proxy in front of it on 127.0.0.1:8080 (PORT / --port override), serving it at
 * /example/mcp.
 */
import { parseArgs } from 'node:util';
import { startSdkServer } from '@mcp/test-fixtures';
import { scriptArgs } from './cli-args.ts';
import { overridePort, parseProxyConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { runProxy } from './main.ts';

async function demo(): Promise<void> {
  const { values } = parseArgs({
    args: scriptArgs(),
    options: { port: { type: 'string', short: 'p' } },
  });
  const upstream = await startSdkServer({ http: 'h2c' });
  const config = overridePort(
    parseProxyConfig({
      listen: { host: '127.0.0.1', port: 8080 },
      upstreams: [{ name: 'example', url: upstream.url, h2c: true }],
      pool: { connectionsPerOrigin: 2 },
      logLevel: process.env.LOG_LEVEL ?? 'info',
    }),
    values.port ?? process.env.PORT,
  );
  const logger = createLogger(config.logLevel);
  const proxy = await runProxy(config, logger, () => upstream.close());
  const endpoint = `${proxy.url}/example/mcp`;
  process.stderr.write(
    [
      '',
      `  example upstream (MCP SDK over h2c): ${upstream.url}`,
      `  proxy (HTTP/1.1 + h2c on one port):  ${endpoint}`,
      '',
      '  Connect an MCP client (Streamable HTTP) to the proxy URL above, e.g.',
      `    npx @modelcontextprotocol/inspector --transport http --server-url ${endpoint}`,
      `  Try it with curl:`,
      `    curl -si ${endpoint} -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\`,
      `      -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'`,
      `  Load it:   npx -y pnpm@12.21.0 demo:load -- --url ${endpoint}`,
      `  Metrics:   curl -s ${proxy.url}/metrics`,
      '  Tools: echo {text}, slow {ms}, progress {steps}, sample {prompt}, bump, hangup {text}; resource example://counter',
      '  Ctrl-C stops (graceful drain).',
      '',
    ].join('\n'),
  );
}

demo().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
