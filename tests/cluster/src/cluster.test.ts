/**
 * Three proxy replicas (processes) behind a real nginx (round robin, no stickiness, SSE
 * unbuffered), sharing sealing keys and no store: every path of a session across replicas,
 * kill -9 of a replica under load, a replica added later, and key rotation.
 */
import { parseSseStream } from '@mcp/sse';
import { type SdkServer, startSdkServer } from '@mcp/test-fixtures';
import { type RunningNginx, startNginx } from 'demo-proxy/src/cluster/nginx.ts';
import {
  newSealingSecret,
  type Replica,
  type ReplicaOptions,
  startReplica,
} from 'demo-proxy/src/cluster/replicas.ts';
import { INITIALIZE, MCP_HEADERS, raw, rawSession } from 'demo-proxy/src/test-support.ts';
import { within } from 'demo-proxy/src/test-wait.ts';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TracedClient, textOf, timed, tracedClient } from './clients.ts';

const k1 = newSealingSecret('k1');
const k2 = newSealingSecret('k2');
const SESSIONS_UNDER_LOAD = 9;
const CALLS_PER_SESSION = 4;

let upstream: SdkServer;
let nginx: RunningNginx;
let endpoint: string;
const replicas: Replica[] = [];
const clients: TracedClient[] = [];

function replicaOptions(port = 0, keys = [k1]): ReplicaOptions {
  return {
    upstreamUrl: upstream.url,
    keys,
    port,
    // The replicas trust nginx's X-Forwarded-For (listen.realIpFrom), so the default per-client
    // quota counts the clients nginx forwards. The upstream GET stream closes with the
    // client's, so another replica can take it at once.
    config: {
      limits: { serverStreamLingerMs: 0, drainTimeoutMs: 1_000 },
    },
    logLevel: process.env.TEST_LOG_LEVEL ?? 'info',
  };
}

beforeAll(async () => {
  upstream = await startSdkServer({ http: 'h2c', mode: 'events' });
  replicas.push(...(await Promise.all([0, 0, 0].map(() => startReplica(replicaOptions())))));
  nginx = await startNginx(replicas.map((r) => `127.0.0.1:${r.port}`));
  endpoint = `${nginx.url}/example/mcp`;
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.client.close()));
  await Promise.allSettled(replicas.map((r) => r.kill()));
  await nginx?.stop();
  await upstream?.close();
});

const call = (id: number, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** POSTs that opened a session upstream (initialize carries no session id). */
const initializes = () =>
  upstream.seen.filter((s) => s.method === 'POST' && s.sessionId === undefined).length;

async function openGet(headers: Record<string, string>) {
  const res = await request(endpoint, {
    method: 'GET',
    headers: { accept: 'text/event-stream', ...headers },
  });
  expect(res.statusCode).toBe(200);
  const events = parseSseStream(res.body)[Symbol.asyncIterator]();
  expect((await events.next()).value?.data).toBe(''); // priming
  return { res, events, replica: String(res.headers['x-mcp-replica']) };
}

describe('proxy replicas behind nginx, sealed sessions', () => {
  it('serves an SDK client on every replica, sampling answers landing on other replicas than their calls', async () => {
    const traced = await tracedClient(endpoint);
    clients.push(traced);
    for (let i = 0; i < 3; i++) {
      const sampled = await traced.client.callTool({
        name: 'sample',
        arguments: { prompt: `p${i}` },
      });
      expect(textOf(sampled)).toBe(`sampled: pong: p${i}`);
      const echoed = await traced.client.callTool({ name: 'echo', arguments: { text: `e${i}` } });
      expect(textOf(echoed)).toBe(`e${i}`);
    }
    const posts = traced.exchanges.filter((e) => e.rpc !== 'GET' && e.rpc !== 'DELETE');
    expect(new Set(posts.map((e) => e.replica)).size).toBe(3);
    const answers = posts.filter(
      (e, i) => e.rpc === 'response' && posts[i - 1]?.rpc === 'tools/call',
    );
    const moved = answers.filter((e) => e.replica !== posts[posts.indexOf(e) - 1]?.replica);
    expect(moved.length).toBeGreaterThan(0);
    expect(upstream.sessionCount).toBe(1);
    expect(initializes()).toBe(1);
  });

  it('resumes a GET stream on another replica, answers bad tokens 404, and 404 on every replica once a session ended', async () => {
    const id = await rawSession(endpoint);
    const session = { 'mcp-session-id': id };
    const streams = upstream.openGetStreams;
    const first = await openGet(session);
    await upstream.waitForGetStreams(streams + 1);
    await upstream.broadcast('notifications/message', { level: 'info', data: 'one' });
    const one = await within(5_000, first.events.next(), 'no event on the first stream');
    first.res.body.destroy();
    await upstream.waitForGetStreams(streams);
    await upstream.broadcast('notifications/message', { level: 'info', data: 'two' });
    const second = await openGet({ ...session, 'last-event-id': one.value?.id ?? '' });
    expect(second.replica).not.toBe(first.replica);
    const two = await within(5_000, second.events.next(), 'nothing resumed on another replica');
    expect(JSON.parse(two.value?.data ?? '{}')).toMatchObject({ params: { data: 'two' } });
    second.res.body.destroy();

    const headers = { ...MCP_HEADERS, ...session };
    const seen = upstream.seen.length;
    const flip = (s: string, i: number) =>
      `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    for (const forged of ['k1.forged', flip(id, 12), `k2${id.slice(2)}`, 'x'.repeat(5_000)]) {
      const bad = { ...MCP_HEADERS, 'mcp-session-id': forged };
      for (let i = 0; i < 3; i++) {
        expect(
          (await raw(endpoint, { headers: bad, body: call(9, 'echo', { text: 'x' }) })).status,
        ).toBe(404);
      }
    }
    expect(upstream.seen.length).toBe(seen);

    const deleted = await raw(endpoint, { method: 'DELETE', headers });
    expect(deleted.status).toBe(200);
    // Every replica answers the upstream's 404: a GET before any stream, and a POST (sealed
    // sessions do not re-initialize by default, so the DELETE ends the token everywhere).
    const get = { accept: 'text/event-stream', ...session };
    const after = await Promise.all(
      [1, 2, 3].map(async () => {
        const res = await request(endpoint, { method: 'GET', headers: get });
        await res.body.dump();
        return { status: res.statusCode, replica: res.headers['x-mcp-replica'] };
      }),
    );
    expect(after.map((r) => r.status)).toEqual([404, 404, 404]);
    for (let i = 0; i < 3; i++) {
      expect(
        (await raw(endpoint, { headers, body: call(10 + i, 'echo', { text: 'x' }) })).status,
      ).toBe(404);
    }
    expect(new Set(after.map((r) => r.replica)).size).toBe(3);
  });

  it('kill -9 of a replica under load: its calls fail fast, no session is lost, a new replica serves old sessions', async () => {
    const traced = await Promise.all(
      Array.from({ length: SESSIONS_UNDER_LOAD }, () => tracedClient(endpoint)),
    );
    clients.push(...traced);
    for (const t of traced) {
      for (let i = 0; i < 3; i++)
        await t.client.callTool({ name: 'echo', arguments: { text: 'warm' } });
    }
    const sessionsBefore = upstream.sessionCount;
    const initializesBefore = initializes();
    const victim = replicas[1] as Replica;
    const victimAddr = `127.0.0.1:${victim.port}`;

    let killedAt = Number.NaN;
    const since = () => killedAt;
    const calls = traced.flatMap((t) =>
      Array.from({ length: CALLS_PER_SESSION }, () =>
        timed(
          t.client.callTool({ name: 'slow', arguments: { ms: 4_000 } }, undefined, {
            timeout: 30_000,
          }),
          since,
        ),
      ),
    );
    await upstream.waitForSlowCalls(calls.length);
    killedAt = performance.now();
    await victim.kill();
    const settled = await within(20_000, Promise.all(calls), 'calls in flight at the kill');

    const failed = settled.filter((s) => !s.ok);
    const onVictim = traced.flatMap((t) =>
      t.exchanges.filter(
        (e) => e.rpc === 'tools/call' && e.replica === victimAddr && e.status !== 200,
      ),
    );
    const slowest = Math.max(...failed.map((s) => s.atMs));
    console.info(
      `kill -9: ${calls.length} calls in flight, ${failed.length} failed (those on the killed replica: ${onVictim.length}), ` +
        `errors within ${Math.round(slowest)} ms of the kill, ${settled.length - failed.length} answered`,
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBe(onVictim.length);

    // Every session goes on through the survivors, never initialized again.
    for (const t of traced) {
      for (let i = 0; i < 3; i++) {
        const result = await t.client.callTool({ name: 'echo', arguments: { text: `after ${i}` } });
        expect(textOf(result)).toBe(`after ${i}`);
      }
    }
    expect(upstream.sessionCount).toBe(sessionsBefore);
    expect(initializes()).toBe(initializesBefore);
    console.info(
      `kill -9: sessions lost: ${sessionsBefore - upstream.sessionCount} of ${sessionsBefore}`,
    );

    // A replica started now serves the old sessions (asked directly, not through nginx).
    const added = await startReplica(replicaOptions());
    replicas.push(added);
    for (const t of traced) {
      const headers = { ...MCP_HEADERS, 'mcp-session-id': String(t.transport.sessionId) };
      const answer = await raw(`${added.url}/example/mcp`, {
        headers,
        body: call(99, 'echo', { text: 'new replica' }),
      });
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('new replica');
    }
  });

  it('rotates keys: replicas restarted one by one with [k2, k1] serve k1 sessions and seal new ones with k2', async () => {
    const deleted = upstream.deleted.length;
    // A rolling restart behind nginx: the others serve while one restarts on its port.
    for (const i of [1, 0, 2]) {
      const old = replicas[i] as Replica;
      await old.stop();
      replicas[i] = await startReplica(replicaOptions(old.port, [k2, k1]));
    }
    expect(upstream.deleted.length).toBe(deleted); // stopping a replica ends no session upstream
    const old = clients;
    for (const t of old) {
      for (let i = 0; i < 2; i++) {
        const result = await t.client.callTool({ name: 'echo', arguments: { text: 'rotated' } });
        expect(textOf(result)).toBe('rotated');
      }
    }
    const init = await raw(endpoint, { headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) });
    expect(String(init.headers['mcp-session-id']).startsWith('k2.')).toBe(true);
  });
});
