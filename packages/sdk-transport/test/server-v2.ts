// The official SDK v2 (`@modelcontextprotocol/server`) server with the same features as
// server-v1.ts, served through its web-standard Streamable HTTP transport.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  completable,
  McpServer,
  ResourceTemplate,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import {
  type HostedSession,
  type HttpFlavor,
  startHost,
  type TestServer,
  toFetchRequest,
  writeResponse,
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

function buildServer(subscribed: Set<string>): McpServer {
  const server = new McpServer(
    { name: 'fixture-v2', version: '2.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true } } },
  );
  server.registerTool(
    'echo',
    { inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'paced',
    { inputSchema: z.object({ steps: z.number(), gapMs: z.number() }) },
    async ({ steps, gapMs }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      const signal = ctx.mcpReq.signal;
      // Progress 1 at once, then one every gapMs; the result right after the last.
      for (let i = 1; i <= steps && !signal.aborted; i++) {
        if (i > 1) await delay(gapMs, undefined, { signal }).catch(() => {});
        if (token !== undefined && !signal.aborted) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps },
          });
        }
      }
      return { content: [{ type: 'text', text: `did ${steps}` }] };
    },
  );
  server.registerTool(
    'sample',
    { inputSchema: z.object({ question: z.string() }) },
    async ({ question }, ctx) => {
      const answer = await ctx.mcpReq.requestSampling({
        messages: [{ role: 'user', content: { type: 'text', text: question } }],
        maxTokens: 5,
      });
      const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
      const text = content?.type === 'text' ? content.text : '?';
      return { content: [{ type: 'text', text: `sampled: ${text}` }] };
    },
  );
  server.registerTool(
    'ask',
    { inputSchema: z.object({ question: z.string() }) },
    async ({ question }, ctx) => {
      const answer = await ctx.mcpReq.elicitInput({
        message: question,
        requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
      });
      return askAnswer(answer);
    },
  );
  server.registerResource('hello', STATIC_URI, { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'hello from v2' }],
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
      argsSchema: z.object({
        language: completable(z.string(), completeLanguage),
      }),
    },
    ({ language }) => reviewPrompt(language),
  );
  server.server.setRequestHandler('resources/subscribe', async (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  return server;
}

async function openSession(registered: (id: string) => void): Promise<HostedSession> {
  const subscribed = new Set<string>();
  const server = buildServer(subscribed);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: registered,
  });
  await server.connect(transport);
  return {
    async handle(req, res, body) {
      const request = toFetchRequest(req, body, `http://${req.headers.host ?? 'localhost'}/mcp`);
      const response = await transport.handleRequest(request, { parsedBody: body });
      await writeResponse(response, res);
    },
    async touch(uri) {
      if (subscribed.has(uri)) await server.server.sendResourceUpdated({ uri });
    },
    close: () => server.close(),
  };
}

/** The SDK v2 server over HTTP/1.1 or h2c. */
export function startV2Server(flavor: HttpFlavor): Promise<TestServer> {
  return startHost(flavor, openSession);
}
