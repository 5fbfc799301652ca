// The official SDK v1 (`@modelcontextprotocol/sdk`) server with one of each feature the tests
// use: tools (echo, paced progress, sampling, elicitation), resources with subscriptions,
// a resource template and a prompt with completions.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { trackSubscriptions } from '@mcp/test-fixtures';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CreateMessageResultSchema, ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  type HostedSession,
  type HostOptions,
  type HttpFlavor,
  startHost,
  type TestServer,
} from './host.ts';
import {
  askAnswer,
  completeLanguage,
  completeMemoName,
  MEMO_TEMPLATE,
  readMemo,
  reviewPrompt,
  STATIC_URI,
} from './shared.ts';

function buildServer(): { server: McpServer; subscribed: ReadonlySet<string> } {
  const server = new McpServer(
    { name: 'fixture-v1', version: '1.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true } } },
  );
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool(
    'paced',
    { inputSchema: { steps: z.number(), gapMs: z.number() } },
    async ({ steps, gapMs }, extra) => {
      const token = extra._meta?.progressToken;
      // Progress 1 at once, then one every gapMs; the result right after the last.
      for (let i = 1; i <= steps && !extra.signal.aborted; i++) {
        if (i > 1) await delay(gapMs, undefined, { signal: extra.signal }).catch(() => {});
        if (token !== undefined && !extra.signal.aborted) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps },
          });
        }
      }
      return { content: [{ type: 'text', text: `did ${steps}` }] };
    },
  );
  server.registerTool('sample', { inputSchema: { question: z.string() } }, async (args, extra) => {
    const answer = await extra.sendRequest(
      {
        method: 'sampling/createMessage',
        params: {
          messages: [{ role: 'user', content: { type: 'text', text: args.question } }],
          maxTokens: 5,
        },
      },
      CreateMessageResultSchema,
    );
    const text = answer.content.type === 'text' ? answer.content.text : '?';
    return { content: [{ type: 'text', text: `sampled: ${text}` }] };
  });
  server.registerTool('ask', { inputSchema: { question: z.string() } }, async (args, extra) => {
    const answer = await extra.sendRequest(
      {
        method: 'elicitation/create',
        params: {
          message: args.question,
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
        },
      },
      ElicitResultSchema,
    );
    return askAnswer(answer);
  });
  server.registerResource('hello', STATIC_URI, { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'hello from v1' }],
  }));
  server.registerResource(
    'memo',
    new ResourceTemplate(MEMO_TEMPLATE, {
      list: undefined,
      complete: { name: completeMemoName },
    }),
    {},
    async (uri, { name }) => readMemo(uri, name),
  );
  server.registerPrompt(
    'review',
    {
      argsSchema: {
        language: completable(z.string(), completeLanguage),
      },
    },
    ({ language }) => reviewPrompt(language),
  );
  return { server, subscribed: trackSubscriptions(server) };
}

async function openSession(registered: (id: string) => void): Promise<HostedSession> {
  const { server, subscribed } = buildServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: registered,
  });
  await server.connect(transport);
  return {
    handle: (req, res, body) => transport.handleRequest(req as never, res as never, body),
    async touch(uri) {
      if (subscribed.has(uri)) await server.server.sendResourceUpdated({ uri });
    },
    close: () => server.close(),
  };
}

/** The SDK v1 server over HTTP/1.1 or h2c. */
export function startV1Server(flavor: HttpFlavor, options?: HostOptions): Promise<TestServer> {
  return startHost(flavor, openSession, options);
}
