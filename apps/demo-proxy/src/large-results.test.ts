import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, INITIALIZE, startHarness } from './test-support.ts';

const TEXT_BYTES = 900_000;
const CALLS = 16;

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness.close();
});

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** One POST on `session`; the body is read only once `reading` resolves. */
function post(
  session: http2.ClientHttp2Session,
  body: unknown,
  headers: Record<string, string>,
  reading: Promise<void> = Promise.resolve(),
  started: () => void = () => {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/example/mcp',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    });
    stream.pause();
    const chunks: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      responseHeaders = h;
      started();
      void reading.then(() => stream.resume());
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () =>
      resolve({
        status: Number(responseHeaders[':status']),
        headers: responseHeaders,
        body: Buffer.concat(chunks).toString(),
      }),
    );
    stream.on('error', reject);
    stream.end(JSON.stringify(body));
  });
}

describe('large results over the HTTP/2 front', () => {
  it('relays sixteen ~1 MB results to a client that reads them late through 64 KiB windows', async () => {
    // Node's default windows; nothing is read until every answer has started.
    const session = http2.connect(harness.proxy.url, {
      settings: { initialWindowSize: 65_535 },
      // This client queues 16 request bodies of ~1 MB: its own session must hold them.
      maxSessionMemory: 100,
    });
    session.on('error', () => {});
    try {
      const init = await post(session, INITIALIZE, {});
      const headers = {
        'mcp-session-id': String(init.headers['mcp-session-id']),
        'mcp-protocol-version': '2025-11-25',
      };
      await post(session, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
      let startReading: () => void = () => {};
      const reading = new Promise<void>((resolve) => {
        startReading = resolve;
      });
      let allStarted: () => void = () => {};
      const started = new Promise<void>((resolve) => {
        allStarted = resolve;
      });
      let answered = 0;
      const onStarted = (): void => {
        answered += 1;
        if (answered === CALLS) allStarted();
      };
      const call = (i: number, when?: Promise<void>) =>
        post(
          session,
          {
            jsonrpc: '2.0',
            id: 10 + i,
            method: 'tools/call',
            params: { name: 'echo', arguments: { text: 'y'.repeat(TEXT_BYTES) } },
          },
          headers,
          when,
          when === undefined ? undefined : onStarted,
        );
      const calls = Array.from({ length: CALLS }, (_, i) => call(i, reading));
      // Sixteen answers wait in the proxy for the client's window (~13 MB); a new call must
      // still get a stream (node's default maxSessionMemory of 10 MB refused it).
      await started;
      const late = await call(CALLS);
      expect(late.status).toBe(200);
      startReading();
      const answers = await Promise.all(calls);
      expect(answers.map((a) => a.status)).toEqual(Array(CALLS).fill(200));
      for (const [i, answer] of answers.entries()) {
        const message = JSON.parse(answer.body) as {
          id: number;
          result: { content: Array<{ text: string }> };
        };
        expect(message.id).toBe(10 + i);
        expect(message.result.content[0]?.text).toHaveLength(TEXT_BYTES);
      }
    } finally {
      session.destroy();
    }
  });
});
