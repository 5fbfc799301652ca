import type { Connection } from '@mcp/connection-core';
import type { UpstreamConfig } from '../config.ts';
import type { ProxyContext } from '../context.ts';

/**
 * One Connection per upstream for every 2026-07-28 request to it, from any client: in that era
 * a request carries all its state (`_meta`, headers derived from the body), so the Connection
 * holds none (no session id, no handshake) and the proxy keeps nothing per client. It rides
 * the pool's shared TCP connections like any session, and closes with the pool.
 */
const shared = new WeakMap<ProxyContext, Map<string, Promise<Connection>>>();

export async function statelessConnection(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
): Promise<Connection> {
  let byUpstream = shared.get(ctx);
  if (byUpstream === undefined) {
    byUpstream = new Map();
    shared.set(ctx, byUpstream);
  }
  const found = byUpstream.get(upstream.name);
  if (found !== undefined) {
    const connection = await found.catch(() => undefined);
    if (connection !== undefined && !connection.closed) return connection;
    if (byUpstream.get(upstream.name) === found) byUpstream.delete(upstream.name);
    return statelessConnection(ctx, upstream);
  }
  const connecting = ctx.connector.connect(upstream, `stateless:${upstream.name}`, {
    ...upstream.headers,
  });
  byUpstream.set(upstream.name, connecting);
  // A failure is the caller's to report; the next request tries again.
  connecting.catch(() => {
    if (byUpstream.get(upstream.name) === connecting) byUpstream.delete(upstream.name);
  });
  return connecting;
}
