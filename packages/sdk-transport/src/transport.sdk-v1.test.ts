// The SDK v1 Client over ConnectionTransport, against SDK v1 and v2 servers, over HTTP/1.1 and
// h2c: everything the Client does.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV1, firstText } from '../test/clients.ts';
import type { TestServer } from '../test/host.ts';
import { SERVER_MATRIX } from '../test/matrix.ts';
import { LANGUAGES, STATIC_URI } from '../test/shared.ts';

describe.each(SERVER_MATRIX)(
  'SDK v1 Client over ConnectionTransport, %s over %s',
  (_, flavor, start) => {
    let server: TestServer;
    let client: Client;

    beforeAll(async () => {
      server = await start(flavor);
      ({ client } = await connectV1(server));
    });
    afterAll(async () => {
      await client?.close();
      await server?.close();
    });

    it('lists and calls tools', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'paced', 'sample']));
      expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe(
        'hi',
      );
    });

    it('lists and reads resources and resource templates', async () => {
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toContain(STATIC_URI);
      const read = await client.readResource({ uri: STATIC_URI });
      expect(read.contents[0]).toMatchObject({
        uri: STATIC_URI,
        text: expect.stringMatching(/^hello/),
      });
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('memo://{name}');
      const memo = await client.readResource({ uri: 'memo://alpha' });
      expect(memo.contents[0]).toMatchObject({ text: 'memo alpha' });
    });

    it('lists and gets prompts', async () => {
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name)).toContain('review');
      const prompt = await client.getPrompt({ name: 'review', arguments: { language: 'rust' } });
      expect(prompt.messages[0]?.content).toMatchObject({ text: 'Review this rust' });
    });

    it('completes prompt arguments and template variables', async () => {
      const language = await client.complete({
        ref: { type: 'ref/prompt', name: 'review' },
        argument: { name: 'language', value: 'ty' },
      });
      expect(language.completion.values).toEqual(LANGUAGES.filter((l) => l.startsWith('ty')));
      const name = await client.complete({
        ref: { type: 'ref/resource', uri: 'memo://{name}' },
        argument: { name: 'name', value: 'al' },
      });
      expect(name.completion.values).toEqual(['alpha']);
    });

    it('delivers progress in order, before the result', async () => {
      const seen: number[] = [];
      const result = await client.callTool(
        { name: 'paced', arguments: { steps: 3, gapMs: 0 } },
        undefined,
        {
          onprogress: (p) => seen.push(p.progress),
        },
      );
      expect(seen).toEqual([1, 2, 3]);
      expect(firstText(result)).toBe('did 3');
    });

    it('keeps a request alive past its timeout while progress arrives (resetTimeoutOnProgress)', async () => {
      // Four steps 600 ms apart (1.8 s) outlast a 1.5 s timeout only if each progress resets it.
      const result = await client.callTool(
        { name: 'paced', arguments: { steps: 4, gapMs: 600 } },
        undefined,
        {
          timeout: 1500,
          resetTimeoutOnProgress: true,
          onprogress: () => {},
        },
      );
      expect(firstText(result)).toBe('did 4');
    });

    it('times out without resetTimeoutOnProgress and cancels the request on the server', async () => {
      const before = server.cancelled.length;
      const call = client.callTool(
        { name: 'paced', arguments: { steps: 3, gapMs: 600 } },
        undefined,
        {
          timeout: 300,
          onprogress: () => {},
        },
      );
      await expect(call).rejects.toMatchObject({ code: -32001 });
      const cancel = await server.cancellation(before);
      expect(String(cancel.reason)).toMatch(/timed out/i);
    });

    it('answers sampling requests with the Client handler', async () => {
      const result = await client.callTool({ name: 'sample', arguments: { question: 'meaning?' } });
      expect(firstText(result)).toBe('sampled: 42');
    });

    it('answers elicitation requests with the Client handler', async () => {
      const result = await client.callTool({ name: 'ask', arguments: { question: 'name?' } });
      expect(firstText(result)).toBe('accept: Ada');
    });

    it('receives resource updates on the GET stream after subscribing', async () => {
      const { client: subscriber, transport } = await connectV1(server);
      try {
        const updated = new Promise((resolve) =>
          subscriber.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) =>
            resolve(n.params),
          ),
        );
        await subscriber.subscribeResource({ uri: STATIC_URI });
        await server.streamOpen(transport.sessionId as string);
        await server.touch(STATIC_URI);
        await expect(updated).resolves.toEqual({ uri: STATIC_URI });
      } finally {
        await subscriber.close();
      }
    });
  },
);
