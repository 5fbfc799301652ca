/**
 * Scale: a tool that takes 500 ms, `SESSIONS x CALLS_PER_SESSION` calls all in flight at once
 * through our proxy (fresh proxy and upstream processes, so peak RSS and connection counts are
 * this scenario's own).
 */
import type { BenchChild } from './child-process.ts';
import type { ClientKind } from './clients.ts';
import { SLEEP_TOOL } from './mcp-echo.ts';
import type { ScaleResult } from './report.ts';

export const SESSIONS = 100;
export const CALLS_PER_SESSION = 100;
/** The downstream client: raw h2c, so the load generator is not what limits the run. */
const SCALE_CLIENT: ClientKind = 'undici';

type Spawn = (script: string, args: Record<string, string | number>, label: string) => BenchChild;

export async function runScale(options: {
  spawn: Spawn;
  /** Sessions (each with CALLS_PER_SESSION calls in flight); SESSIONS when unset. */
  sessions?: number | undefined;
  /** Where to write a sampling heap profile of the proxy's live memory, if anywhere. */
  heapProfile?: string | undefined;
}): Promise<ScaleResult> {
  const sessions = options.sessions ?? SESSIONS;
  const calls = sessions * CALLS_PER_SESSION;
  const base = {
    calls,
    sessions,
    completed: 0,
    errors: 0,
    seconds: 0,
    upstreamConnections: 0,
    proxyPeakRssMb: 0,
    proxyRssBeforeMb: 0,
    proxyPeakHeapMb: 0,
    proxyCpuUsPerCall: 0,
    clientKind: SCALE_CLIENT,
  };
  const upstream = options.spawn('upstream-fast.ts', {}, 'scale-upstream-fast');
  let proxy: BenchChild | undefined;
  try {
    const upstreamPorts = await upstream.ready();
    proxy = options.spawn(
      'proxy-ours.ts',
      {
        upstream: `http://127.0.0.1:${upstreamPorts.h2}/mcp`,
        h2c: 'true',
        sampleHeap: 'true',
        ...(options.heapProfile ? { heapProfile: options.heapProfile } : {}),
      },
      'scale-proxy-ours',
    );
    const { ports, path } = await proxy.endpoint();
    const proxyUrl = `http://127.0.0.1:${ports.h2 ?? ports.h1}${path}`;
    const upstreamBefore = await upstream.stats();
    const load = options.spawn(
      'loadgen.ts',
      {
        mode: 'scale',
        client: SCALE_CLIENT,
        url: proxyUrl,
        tool: SLEEP_TOOL,
        sessions,
        concurrency: CALLS_PER_SESSION,
      },
      'scale-load',
    );
    try {
      await load.next('warm', 120_000);
      const proxyBefore = await proxy.stats('start');
      load.go();
      const result = await load.result(120_000);
      const [proxyAfter, upstreamAfter] = await Promise.all([proxy.stats('end'), upstream.stats()]);
      return {
        ...base,
        completed: result.calls,
        errors: result.errors,
        firstError: result.firstError,
        seconds: result.durationMs / 1000,
        upstreamConnections: upstreamAfter.accepted - upstreamBefore.accepted,
        proxyPeakRssMb: proxyAfter.maxRss / (1024 * 1024),
        proxyRssBeforeMb: proxyBefore.rss / (1024 * 1024),
        proxyPeakHeapMb: proxyAfter.peakHeapUsed / (1024 * 1024),
        proxyCpuUsPerCall: (proxyAfter.cpuUs - proxyBefore.cpuUs) / calls,
      };
    } finally {
      await load.stop();
    }
  } catch (error) {
    return { ...base, missing: error instanceof Error ? error.message : String(error) };
  } finally {
    await Promise.all([proxy?.stop(), upstream.stop()]);
  }
}
