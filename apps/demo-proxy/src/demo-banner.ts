/** What the demo prints once it listens: where things are, and commands that work from here. */
import path from 'node:path';

/** The example upstream's port in the demo; `proxy.example.yaml` points at it. */
export const DEMO_UPSTREAM_PORT = 3001;

/** The Inspector release these commands were tried with; it needs Node >= 22.19. */
export const INSPECTOR = '@modelcontextprotocol/inspector@2.12.0';

/**
 * `npx` runs the Inspector on the `node` first on PATH. On a machine whose own Node is older
 * than 22.19, npm would pick an old Inspector that fails on these options, so the command puts
 * this process's Node (the repository's Node 24 under pnpm) first.
 */
export function inspectorCommand(args: string, nodeBinary: string = process.execPath): string {
  return `PATH="${path.dirname(nodeBinary)}:$PATH" npx -y ${INSPECTOR} ${args}`;
}

export function demoBanner(upstreamUrl: string, proxyUrl: string): string {
  const endpoint = `${proxyUrl}/example/mcp`;
  const initialize =
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}';
  return [
    '',
    `  example upstream (MCP SDK over h2c): ${upstreamUrl}`,
    `  proxy (HTTP/1.1 + h2c on one port):  ${endpoint}`,
    '',
    `  Connect any MCP client (Streamable HTTP) to the proxy URL. The MCP Inspector, on this Node (${process.version}):`,
    `    ${inspectorCommand(`--cli ${endpoint} --transport http --method tools/list`)}`,
    `    ${inspectorCommand(`--transport http --server-url ${endpoint}`)}   # web UI`,
    '  Try it with curl:',
    `    curl -si ${endpoint} -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\`,
    `      -d '${initialize}'`,
    `  Load it:   npx -y pnpm@12.21.0 demo:load -- --url ${endpoint}`,
    `  Metrics:   curl -s ${proxyUrl}/metrics`,
    '  Tools: echo {text}, slow {ms}, progress {steps}, sample {prompt}, bump, hangup {text}; resource example://counter',
    '  Ctrl-C stops (graceful drain, exit 0).',
    '',
  ].join('\n');
}
