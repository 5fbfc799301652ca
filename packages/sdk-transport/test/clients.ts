// SDK Clients (v1 and v2) over ConnectionTransport, with sampling and elicitation handlers that
// answer "42" and "Ada", for the tests.
import { createHttp2Connection, type Http2Connection } from '@mcp/http2';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { ConnectionTransport } from '../src/index.ts';
import type { TestServer } from './host.ts';

const SAMPLED = {
  model: 'test',
  role: 'assistant',
  content: { type: 'text', text: '42' },
} as const;
const ELICITED = { action: 'accept', content: { name: 'Ada' } } as const;

export interface Connected<C> {
  client: C;
  transport: ConnectionTransport;
  connection: Http2Connection;
}

export function connectionTo(server: TestServer, reinitialize = false): Http2Connection {
  return createHttp2Connection({ url: server.url, h2c: server.flavor === 'h2c', reinitialize });
}

export async function connectV1(
  server: TestServer,
  reinitialize = false,
): Promise<Connected<ClientV1>> {
  const client = new ClientV1(
    { name: 'test-v1', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async () => SAMPLED);
  client.setRequestHandler(ElicitRequestSchema, async () => ELICITED);
  const connection = connectionTo(server, reinitialize);
  const transport = new ConnectionTransport(connection);
  await client.connect(transport);
  return { client, transport, connection };
}

export async function connectV2(server: TestServer): Promise<Connected<ClientV2>> {
  const client = new ClientV2(
    { name: 'test-v2', version: '2.0.0' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  client.setRequestHandler('sampling/createMessage', async () => SAMPLED);
  client.setRequestHandler('elicitation/create', async () => ELICITED);
  const connection = connectionTo(server);
  const transport = new ConnectionTransport(connection);
  await client.connect(transport);
  return { client, transport, connection };
}

/** The text of a tool result's first content block. */
export function firstText(result: unknown): string | undefined {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  return content?.[0]?.text;
}
