/** The official SDK clients, v1 and v2, used the way their docs show: `callTool` on a `Client`. */
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type BenchClient, type ClientFactory, checkAnswer, ECHO_ARGUMENTS } from './clients.ts';

export const CLIENT_INFO = { name: 'bench', version: '1.0.0' };

/** What the bench uses of a connected SDK Client, v1 or v2. */
interface SdkClient {
  callTool(params: { name: string; arguments: typeof ECHO_ARGUMENTS }): Promise<unknown>;
  close(): Promise<void>;
}

/** A connected SDK Client as a bench client: each call is one `callTool` of `tool`. */
export function callingTool(client: SdkClient, tool: string): BenchClient {
  return {
    call: async () => {
      checkAnswer(tool, await client.callTool({ name: tool, arguments: ECHO_ARGUMENTS }));
    },
    close: () => client.close(),
  };
}

export const sdkV1: ClientFactory = async (url, tool) => {
  const client = new ClientV1(CLIENT_INFO);
  await client.connect(new TransportV1(new URL(url)));
  return callingTool(client, tool);
};

export const sdkV2: ClientFactory = async (url, tool) => {
  const client = new ClientV2(CLIENT_INFO);
  await client.connect(new TransportV2(new URL(url)));
  return callingTool(client, tool);
};
