/**
 * Child process: our proxy (apps/demo-proxy) in front of one upstream, started in-process with
 * its own config schema, logger and pool connector. Limits are raised so the bench measures
 * cost, not admission control: up to 1,000 requests in flight per session, 20,000 in total,
 * 1,000 streams per upstream TCP connection.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { parseProxyConfig } from 'demo-proxy/src/config.ts';
import { createLogger } from 'demo-proxy/src/logger.ts';
import { createPoolConnector } from 'demo-proxy/src/pool-connector.ts';
import { startProxy } from 'demo-proxy/src/proxy.ts';
import { sampleLiveHeap } from './heap-sampler.ts';
import { childArgs, send, serveChild } from './ipc.ts';

export const UPSTREAM_NAME = 'up';

const args = childArgs();
const upstreamUrl = args.upstream ?? 'http://127.0.0.1:1/mcp';
let accepted = 0;
diagnosticsChannel.subscribe('net.server.socket', () => {
  accepted += 1;
});

const config = parseProxyConfig({
  listen: { host: '127.0.0.1', port: 0 },
  upstreams: [
    {
      name: UPSTREAM_NAME,
      url: upstreamUrl,
      h2c: args.h2c === 'true',
      // 'both' for the eras scenario: each client's era goes through as it is.
      ...(args.era === 'both' ? { era: 'both' as const } : {}),
    },
  ],
  limits: {
    maxSessions: 1_000,
    maxConcurrentRequests: 20_000,
    maxConcurrentRequestsPerSession: 1_000,
  },
  // 4 TCP connections per upstream origin (the default), 1,000 streams each (default 100):
  // with 100, at most ~400 upstream requests are in flight at once, whatever the load.
  pool: { connectionsPerOrigin: 4, maxConcurrentStreams: 1_000 },
  logLevel: 'silent',
});
const proxy = await startProxy({
  config,
  logger: createLogger(config.logLevel),
  connector: createPoolConnector(config),
});
const heapProfile = args.heapProfile;
serveChild({
  accepted: () => accepted,
  sampleHeap: args.sampleHeap === 'true',
  onWindowStart:
    heapProfile === undefined
      ? undefined
      : () => void sampleLiveHeap(heapProfile, [1_000, 2_000, 3_000, 4_000]).catch(() => {}),
  close: async () => {
    await proxy.close();
  },
});
await send({
  type: 'ready',
  ports: { h1: proxy.port, h2: proxy.port },
  path: `/${UPSTREAM_NAME}/mcp`,
});
