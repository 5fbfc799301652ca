// The SDK v2 Client (`@modelcontextprotocol/client`) over ConnectionTransport, against SDK v1
// and v2 servers, over HTTP/1.1 and h2c.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, firstText } from '../test/clients.ts';
import type { TestServer } from '../test/host.ts';
import { SERVER_MATRIX } from '../test/matrix.ts';
import { LANGUAGES, STATIC_URI } from '../test/shared.ts';
import type { ConnectionTransport } from './index.ts';

describe.each(SERVER_MATRIX)(
  'SDK v2 Client over ConnectionTransport, %s over %s',
  (_, flavor, start) => {
    let server: TestServer;
    let client: Client;
    let transport: ConnectionTransport;

    beforeAll(async () => {
      server = await start(flavor);
      ({ client, transport } = await connectV2(server));
    });
    afterAll(async () => {
      await client?.close();
      await server?.close();
    });

    it('negotiates a session and calls tools', async () => {
      expect(transport.sessionId).toBeDefined();
      expect(transport.protocolVersion).toBe(
        client.getNegotiatedProtocolVersion?.() ?? transport.protocolVersion,
      );
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('echo');
      expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'v2' } }))).toBe(
        'v2',
      );
    });

    it('reads resources, gets prompts and completes arguments', async () => {
      const read = await client.readResource({ uri: STATIC_URI });
      expect(read.contents[0]).toMatchObject({ uri: STATIC_URI });
      const prompt = await client.getPrompt({ name: 'review', arguments: { language: 'python' } });
      expect(prompt.messages[0]?.content).toMatchObject({ text: 'Review this python' });
      const done = await client.complete({
        ref: { type: 'ref/prompt', name: 'review' },
        argument: { name: 'language', value: 'py' },
      });
      expect(done.completion.values).toEqual(LANGUAGES.filter((l) => l.startsWith('py')));
    });

    it('delivers progress before the result', async () => {
      const seen: number[] = [];
      const result = await client.callTool(
        { name: 'paced', arguments: { steps: 2, gapMs: 0 } },
        { onprogress: (p) => seen.push(p.progress) },
      );
      expect(seen).toEqual([1, 2]);
      expect(firstText(result)).toBe('did 2');
    });

    it('answers sampling and elicitation with the Client handlers', async () => {
      const sampled = await client.callTool({ name: 'sample', arguments: { question: 'q' } });
      expect(firstText(sampled)).toBe('sampled: 42');
      const asked = await client.callTool({ name: 'ask', arguments: { question: 'q' } });
      expect(firstText(asked)).toBe('accept: Ada');
    });

    it('receives resource updates on the GET stream', async () => {
      const updated = new Promise((resolve) =>
        client.setNotificationHandler('notifications/resources/updated', (n) => resolve(n.params)),
      );
      await client.subscribeResource({ uri: STATIC_URI });
      await server.streamOpen(transport.sessionId as string);
      await server.touch(STATIC_URI);
      await expect(updated).resolves.toMatchObject({ uri: STATIC_URI });
    });

    it('cancels a request on the server when the caller aborts it', async () => {
      const before = server.cancelled.length;
      const controller = new AbortController();
      // Aborted once the server is at work on it (its first progress came).
      const call = client.callTool(
        { name: 'paced', arguments: { steps: 2, gapMs: 10_000 } },
        { signal: controller.signal, onprogress: () => controller.abort('v2 gave up') },
      );
      await expect(call).rejects.toThrow();
      const cancel = await server.cancellation(before);
      expect(String(cancel.reason)).toContain('v2 gave up');
    });
  },
);
