// The client the official conformance suite drives (`conformance client --command ...`): the
// SDK v1 Client over ConnectionTransport (CONFORMANCE_TRANSPORT=ours, the default) or over the
// SDK's own StreamableHTTPClientTransport (CONFORMANCE_TRANSPORT=sdk), doing what each scenario
// (MCP_CONFORMANCE_SCENARIO) asks of it against the server URL given last on the command line.
import { createHttp2Connection } from '@mcp/http2';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { ConnectionTransport } from '../src/index.ts';
import { authorize, bearer, CLIENT_METADATA_URL, HeadlessOAuthProvider } from './oauth.ts';

type Kind = 'ours' | 'sdk';

/** A transport of the chosen kind, with `provider`'s credentials when there is one. */
function transportFor(kind: Kind, url: string, provider?: OAuthClientProvider): Transport {
  if (kind === 'ours') {
    const connection = createHttp2Connection({
      url,
      ...(provider === undefined ? {} : { headers: () => bearer(provider) }),
    });
    return new ConnectionTransport(
      connection,
      provider === undefined
        ? {}
        : {
            onUnauthorized: (error) => authorize(provider, url, error.headers['www-authenticate']),
          },
    );
  }
  if (provider === undefined) return new StreamableHTTPClientTransport(new URL(url));
  return new StreamableHTTPClientTransport(new URL(url), {
    fetch: async (input, init) => {
      const send = async () => {
        const headers = new Headers(init?.headers);
        for (const [name, value] of Object.entries(await bearer(provider)))
          headers.set(name, value);
        return fetch(input, { ...init, headers });
      };
      const response = await send();
      if (response.status !== 401 && response.status !== 403) return response;
      await authorize(provider, url, response.headers.get('www-authenticate') ?? undefined);
      return send();
    },
  });
}

interface Context {
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
}

function context(): Context {
  return JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as Context;
}

/** The OAuth provider a scenario calls for; undefined for the scenarios without auth. */
function providerFor(scenario: string): OAuthClientProvider | undefined {
  if (!scenario.startsWith('auth/')) return undefined;
  const ctx = context();
  if (scenario === 'auth/client-credentials-basic') {
    return new ClientCredentialsProvider({
      clientId: ctx.client_id ?? '',
      clientSecret: ctx.client_secret ?? '',
    });
  }
  if (scenario === 'auth/client-credentials-jwt') {
    return new PrivateKeyJwtProvider({
      clientId: ctx.client_id ?? '',
      privateKey: ctx.private_key_pem ?? '',
      algorithm: ctx.signing_algorithm ?? 'ES256',
    });
  }
  if (scenario === 'auth/pre-registration') {
    return new HeadlessOAuthProvider({
      client: { client_id: ctx.client_id ?? '', client_secret: ctx.client_secret ?? '' },
    });
  }
  return new HeadlessOAuthProvider({ clientMetadataUrl: CLIENT_METADATA_URL });
}

/** What the client does once connected, per scenario. */
async function exercise(client: Client, scenario: string): Promise<void> {
  const { tools } = await client.listTools();
  if (scenario === 'tools_call') {
    await client.callTool({ name: 'add_numbers', arguments: { a: 5, b: 3 } });
  } else if (scenario === 'sse-retry') {
    await client.callTool({ name: 'test_reconnection', arguments: {} });
  } else if (scenario === 'elicitation-sep1034-client-defaults') {
    await client.callTool({ name: 'test_client_elicitation_defaults', arguments: {} });
  } else if (scenario.startsWith('auth/') && tools.some((t) => t.name === 'test-tool')) {
    await client.callTool({ name: 'test-tool', arguments: {} });
  }
}

async function main(): Promise<void> {
  const url = process.argv.at(-1) ?? '';
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const kind: Kind = process.env.CONFORMANCE_TRANSPORT === 'sdk' ? 'sdk' : 'ours';
  const client = new Client(
    { name: `sdk-transport-conformance-${kind}`, version: '1.0.0' },
    { capabilities: { elicitation: { form: { applyDefaults: true } } } },
  );
  // Accepts with nothing filled in: the Client applies the schema's defaults.
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: {} }));
  await client.connect(transportFor(kind, url, providerFor(scenario)));
  try {
    await exercise(client, scenario);
  } finally {
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
