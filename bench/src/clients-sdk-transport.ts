/**
 * The official SDK clients over `@mcp/sdk-transport`: the same `Client.callTool` as in
 * clients-sdk.ts, with the one-line change of transport (a `ConnectionTransport` over an
 * `@mcp/http2` connection, h2c).
 */
import { createHttp2Connection } from '@mcp/http2';
import { ConnectionTransport } from '@mcp/sdk-transport';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { ClientFactory } from './clients.ts';
import { CLIENT_INFO, callingTool } from './clients-sdk.ts';

const transportTo = (url: string) =>
  new ConnectionTransport(createHttp2Connection({ url, h2c: true }));

export const sdkV1Ours: ClientFactory = async (url, tool) => {
  const client = new ClientV1(CLIENT_INFO);
  await client.connect(transportTo(url));
  return callingTool(client, tool);
};

export const sdkV2Ours: ClientFactory = async (url, tool) => {
  const client = new ClientV2(CLIENT_INFO);
  await client.connect(transportTo(url));
  return callingTool(client, tool);
};
