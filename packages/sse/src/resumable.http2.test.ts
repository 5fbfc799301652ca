import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HttpStatusError, SessionExpiredError } from '@mcp/connection-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { SseEvent } from './decode.ts';
import { type OpenSseStream, type ReconnectScheduler, ResumableSseStream } from './resumable.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Script = (stream: http2.ServerHttp2Stream, lastEventId: string | undefined) => void;

/** A real h2c server that plays one script per GET, in order. */
async function scriptedServer(scripts: Script[]) {
  const server = http2.createServer();
  const seenLastEventIds: Array<string | undefined> = [];
  server.on('stream', (stream, headers) => {
    const lastEventId = headers['last-event-id'] as string | undefined;
    seenLastEventIds.push(lastEventId);
    const script = scripts.shift();
    if (!script) {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    script(stream, lastEventId);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seenLastEventIds };
}

function sse(stream: http2.ServerHttp2Stream, text: string): void {
  stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
  stream.write(text);
}

/** Opens the stream with a fresh client session per attempt, as a client would after a drop. */
function opener(origin: string): OpenSseStream {
  return async (lastEventId, signal) => {
    const session = http2.connect(origin);
    session.on('error', () => {});
    cleanups.push(() => {
      session.destroy();
    });
    const headers: http2.OutgoingHttpHeaders = { ':path': '/mcp', accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const req = session.request(headers, { signal });
    req.on('error', () => {});
    const [response] = (await once(req, 'response', { signal })) as [http2.IncomingHttpHeaders];
    const status = Number(response[':status']);
    if (status === 404) throw new SessionExpiredError('s-1');
    if (status !== 200) throw new HttpStatusError(status, {}, '');
    return req;
  };
}

/** Real waits, recorded. */
function recordingScheduler(): ReconnectScheduler & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep(ms, signal) {
      waits.push(ms);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    },
  };
}

describe('ResumableSseStream against a real HTTP/2 server', () => {
  it('survives a destroyed socket and a graceful end, resuming by Last-Event-ID', async () => {
    let markSawTwo: () => void = () => {};
    const sawTwo = new Promise<void>((resolve) => (markSawTwo = resolve));
    const { origin, seenLastEventIds } = await scriptedServer([
      (stream) => {
        // Priming event with a retry, two events, then the socket dies in the middle of one.
        sse(stream, 'id: p0\nretry: 20\ndata:\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n');
        stream.write('id: 3\ndata: thr');
        // Drop the connection once the client has read event 2 (so nothing before it is lost).
        void sawTwo.then(() => stream.session?.socket?.destroy());
      },
      (stream) => {
        // Replays 2 (must be dropped), sends 3 and 4 split oddly, then ends cleanly.
        sse(stream, 'id: 2\ndata: two\n\nid: 3\r\nda');
        stream.write('ta: three\r\n\r\n: keep-alive\n\nid: 4\ndata: fo');
        stream.end('ur\n\n');
      },
      (stream) => {
        sse(stream, 'id: 5\ndata: five\n\n');
        stream.end();
      },
    ]);
    const scheduler = recordingScheduler();
    const stream = new ResumableSseStream({ open: opener(origin), scheduler });
    const events: SseEvent[] = [];
    for await (const event of stream) {
      events.push(event);
      if (event.id === '2') markSawTwo();
      if (event.id === '5') break;
    }
    expect(events.map((e) => [e.id, e.data])).toEqual([
      ['p0', ''],
      ['1', 'one'],
      ['2', 'two'],
      ['3', 'three'],
      ['4', 'four'],
      ['5', 'five'],
    ]);
    expect(seenLastEventIds).toEqual([undefined, '2', '4']);
    expect(scheduler.waits).toEqual([20, 20]);
    expect(stream.retryMs).toBe(20);
    expect(stream.lastEventId).toBe('5');
  });

  it('ends with the non-retryable error when the session is gone', async () => {
    const { origin, seenLastEventIds } = await scriptedServer([
      (stream) => {
        sse(stream, 'id: a\nretry: 1\ndata: x\n\n');
        stream.end();
      },
      // Then 404: the opener maps it to SessionExpiredError.
    ]);
    const stream = new ResumableSseStream({
      open: opener(origin),
      scheduler: recordingScheduler(),
    });
    const events: SseEvent[] = [];
    const err = await (async () => {
      for await (const event of stream) events.push(event);
    })().catch((e: unknown) => e);
    expect(events).toEqual([{ id: 'a', data: 'x', retry: 1 }]);
    expect(err).toBeInstanceOf(SessionExpiredError);
    expect(seenLastEventIds).toEqual([undefined, 'a']);
  });
});
