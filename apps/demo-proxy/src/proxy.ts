import { clientAddressOf } from './client-address.ts';
import type { ProxyConfig } from './config.ts';
import type { ProxyContext } from './context.ts';
import { type EdgeEvent, type EdgeLimit, TokenBucket } from './edge-guards.ts';
import { BridgedCalls } from './era/bridged-calls.ts';
import { BridgedSessions } from './era/bridged-sessions.ts';
import { type Listener, startListener } from './listener.ts';
import { LoadTracker } from './load-tracker.ts';
import type { Logger } from './logger.ts';
import { ProxyMetrics } from './metrics.ts';
import { createRouter } from './router.ts';
import { createSessionStore } from './sealed-sessions.ts';
import { SessionRegistry } from './session-registry.ts';
import type { UpstreamConnector } from './upstream-connector.ts';
import { isLoopbackAddress } from './validate.ts';

export interface ProxyServer {
  readonly port: number;
  readonly url: string;
  readonly context: ProxyContext;
  /**
   * Graceful stop: stop accepting, end GET streams, let in-flight requests finish up to the
   * drain timeout, then end every upstream session and close the pool. Idempotent.
   */
  close(): Promise<{ drained: boolean }>;
}

export interface StartProxyOptions {
  config: ProxyConfig;
  logger: Logger;
  connector: UpstreamConnector;
}

/** Starts the proxy on its configured port. */
export async function startProxy(options: StartProxyOptions): Promise<ProxyServer> {
  const { config, logger, connector } = options;
  const metrics = new ProxyMetrics(() => connector.stats());
  const store = createSessionStore(config);
  const sessions = new SessionRegistry({
    maxSessions: config.limits.maxSessions,
    idleTimeoutMs: config.limits.sessionIdleTimeoutMs,
    streamIdleTimeoutMs: config.sessions.streamIdleTimeoutMs,
    maxSessionsPerClient: config.sessions.maxSessionsPerClient,
    bufferSize: config.limits.eventBufferSize,
    serverStreamLingerMs: config.limits.serverStreamLingerMs,
    eventIdPrefix: () => store.eventIdPrefix(),
    onCountChange: (upstream, delta) => metrics.sessions.inc({ upstream }, delta),
  });
  for (const u of config.upstreams) metrics.sessions.set({ upstream: u.name }, 0);
  const ctx: ProxyContext = {
    config,
    logger,
    metrics,
    sessions,
    bridged: new BridgedSessions({
      maxSessions: config.limits.maxSessions,
      idleTimeoutMs: config.limits.sessionIdleTimeoutMs,
    }),
    bridgedCalls: new BridgedCalls({
      maxWaiting: config.limits.maxConcurrentRequests,
      inputTimeoutMs: config.limits.requestTimeoutMs,
    }),
    store,
    connector,
    clientAddress: clientAddressOf(config.listen.realIpFrom),
    rebinding: {
      enabled: isLoopbackAddress(config.listen.host),
      allowedHosts: config.listen.allowedHosts,
      allowedOrigins: config.listen.allowedOrigins,
    },
    load: new LoadTracker(),
    onEdgeLimit: edgeReporter({ logger, metrics }),
  };
  const listener: Listener = await startListener({
    listen: config.listen,
    onRequest: createRouter(ctx),
    headersTimeoutMs: config.limits.headersTimeoutMs,
    edge: config.edge,
    onLimit: ctx.onEdgeLimit,
  });
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  let closing: Promise<{ drained: boolean }> | undefined;

  return {
    port: listener.port,
    url: `${listener.protocol}://${host}:${listener.port}`,
    context: ctx,
    close() {
      closing ??= (async () => {
        ctx.load.startDraining();
        const stopped = listener.stopAccepting();
        sessions.endStreams();
        const drained = await ctx.load.idle(config.limits.drainTimeoutMs);
        ctx.bridgedCalls.closeAll();
        await Promise.all([sessions.closeAll(), ctx.bridged.closeAll()]);
        await connector.close();
        listener.destroy();
        await stopped;
        return { drained };
      })();
      return closing;
    },
  };
}

/** Limits that only abuse reaches: worth a warning (at most one a second each), not just debug. */
const ABUSE: ReadonlySet<EdgeLimit> = new Set(['connections', 'stream_resets']);

/** Counts each edge limit that acts, and logs it. */
export function edgeReporter(ctx: Pick<ProxyContext, 'logger' | 'metrics'>): EdgeEvent {
  const warnings = new Map<EdgeLimit, TokenBucket>();
  return (limit, detail) => {
    ctx.metrics.edgeLimits.inc({ limit });
    let bucket = warnings.get(limit);
    if (bucket === undefined && ABUSE.has(limit)) {
      bucket = new TokenBucket(1, 1);
      warnings.set(limit, bucket);
    }
    if (bucket?.take()) ctx.logger.warn({ limit, ...detail }, 'edge limit reached');
    else if (ctx.logger.isLevelEnabled('debug'))
      ctx.logger.debug({ limit, ...detail }, 'edge limit');
  };
}
