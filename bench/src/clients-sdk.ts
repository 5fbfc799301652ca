/** The official SDK clients, v1 and v2, used the way their docs show: `callTool` on a `Client`. */
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type ClientFactory, ECHO_ARGUMENTS } from './clients.ts';

const CLIENT_INFO = { name: 'bench', version: '1.0.0' };

export const sdkV1: ClientFactory = async (url, tool) => {
  const client = new ClientV1(CLIENT_INFO);
  await client.connect(new TransportV1(new URL(url)));
  return {
    call: async () => {
      await client.callTool({ name: tool, arguments: ECHO_ARGUMENTS });
    },
    close: () => client.close(),
  };
};

export const sdkV2: ClientFactory = async (url, tool) => {
  const client = new ClientV2(CLIENT_INFO);
  await client.connect(new TransportV2(new URL(url)));
  return {
    call: async () => {
      await client.callTool({ name: tool, arguments: ECHO_ARGUMENTS });
    },
    close: () => client.close(),
  };
};
