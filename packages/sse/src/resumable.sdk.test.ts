import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpStatusError, type JsonRpcMessage } from '@mcp/connection-core';
import { initializeMessage } from '@mcp/test-fixtures';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  type EventStore,
  StreamableHTTPServerTransport,
} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseSseStream } from './decode.ts';
import { SseMessageReader } from './message-reader.ts';
import { ResumableSseStream } from './resumable.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * An event store that keeps order. (The SDK's example InMemoryEventStore sorts ids of the form
 * `${stream}_${Date.now()}_${random}`, so events stored in the same millisecond replay shuffled.)
 */
function orderedEventStore(): EventStore {
  const events: Array<{ id: string; streamId: string; message: unknown }> = [];
  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}:${events.length}`;
      events.push({ id, streamId, message });
      return id;
    },
    async getStreamIdForEventId(eventId) {
      return events.find((e) => e.id === eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const index = events.findIndex((e) => e.id === lastEventId);
      const last = events[index];
      if (!last) return '';
      for (const e of events.slice(index + 1)) {
        if (e.streamId === last.streamId) await send(e.id, e.message as never);
      }
      return last.streamId;
    },
  };
}

/**
 * The SDK's Streamable HTTP server with an event store: its `steps` tool closes the request's
 * SSE stream halfway (SEP-1699 polling), so the client must resume with GET + Last-Event-ID.
 */
async function sdkStreamableServer() {
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: orderedEventStore(),
    retryInterval: 20,
  });
  const mcp = new McpServer({ name: 'resumable-test', version: '1.0.0' });
  let closedOnce = false;
  mcp.registerTool('steps', { inputSchema: { n: z.number() } }, async ({ n }, extra) => {
    const progressToken = extra._meta?.progressToken ?? 'none';
    for (let i = 1; i <= n; i++) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress: i, total: n },
      });
      if (i === 2 && !closedOnce) {
        closedOnce = true;
        extra.closeSSEStream?.();
      }
    }
    return { content: [{ type: 'text', text: `did ${n} steps` }] };
  });
  await mcp.connect(transport);
  const gets: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') gets.push(req.headers['last-event-id'] as string | undefined);
    void transport.handleRequest(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    await mcp.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`), gets };
}

describe('ResumableSseStream against the SDK Streamable HTTP server', () => {
  it('resumes a tools/call stream the server closed (priming event, retry, replay)', async () => {
    const { url, gets } = await sdkStreamableServer();
    const agent = new Agent();
    cleanups.push(() => agent.close());
    let sessionId = '';
    const headers = (): Record<string, string> => ({
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-11-25',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    });
    const post = async (message: JsonRpcMessage): Promise<Dispatcher.ResponseData> => {
      const response = await agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers: headers(),
        body: JSON.stringify(message),
      });
      if (response.statusCode >= 300) throw new HttpStatusError(response.statusCode, {}, '');
      return response;
    };
    const firstMessage = async (response: Dispatcher.ResponseData) => {
      for await (const item of new SseMessageReader(parseSseStream(response.body))) {
        if (item.kind === 'message') return item.message;
      }
      return undefined;
    };

    const init = await post(initializeMessage({ clientInfo: { name: 't', version: '0' } }));
    sessionId = init.headers['mcp-session-id'] as string;
    expect(await firstMessage(init)).toMatchObject({ id: 0, result: {} });
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).body.dump();

    const call = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'steps', arguments: { n: 5 }, _meta: { progressToken: 'p' } },
    });
    expect(call.headers['content-type']).toContain('text/event-stream');
    const stream = new ResumableSseStream({
      initial: call.body,
      open: async (lastEventId, signal) => {
        const response = await agent.request({
          origin: url.origin,
          path: url.pathname,
          method: 'GET',
          headers: { ...headers(), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal,
        });
        if (response.statusCode !== 200) {
          await response.body.dump();
          throw new HttpStatusError(response.statusCode, {}, '');
        }
        return response.body;
      },
    });
    const reader = new SseMessageReader(stream);
    const progress: number[] = [];
    let result: unknown;
    for await (const item of reader) {
      if (item.kind === 'invalid') throw item.error;
      const message = item.message as { id?: unknown; params?: { progress?: number } };
      if (message.id === 1) {
        result = message;
        break;
      }
      if (message.params?.progress !== undefined) progress.push(message.params.progress);
    }
    expect(result).toMatchObject({ result: { content: [{ text: 'did 5 steps' }] } });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(gets.length).toBeGreaterThanOrEqual(1);
    expect(gets[0]).toBeDefined(); // resumed with Last-Event-ID
    expect(stream.retryMs).toBe(20);
  });
});
