// The SDK v2 Client pinned to MCP 2026-07-28 over ConnectionTransport, against the SDK v2 server
// that speaks only 2026-07-28 (no initialize, no session). The client writes the era's messages
// itself (server/discover, the _meta envelope); the connection adds the era's headers to any
// message that carries the envelope, whatever its own `era` option says.
import { createHttp2Connection } from '@mcp/http2';
import { type SdkV2ModernServer, startSdkV2ModernServer } from '@mcp/test-fixtures';
import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstText } from '../test/clients.ts';
import { ConnectionTransport } from './index.ts';

describe.each([
  ['the default era', undefined],
  ["era 'auto'", 'auto'],
] as const)(
  'SDK v2 Client (2026-07-28) over ConnectionTransport, connection with %s, modern-only h2c server',
  (_, era) => {
    let server: SdkV2ModernServer;
    let client: Client;
    let transport: ConnectionTransport;

    beforeAll(async () => {
      server = await startSdkV2ModernServer({ http: 'h2c', legacy: 'reject' });
      client = new Client(
        { name: 'modern-over-ours', version: '1.0.0' },
        {
          capabilities: { elicitation: {} },
          versionNegotiation: { mode: { pin: '2026-07-28' } },
        },
      );
      client.setRequestHandler('elicitation/create', async () => ({
        action: 'accept',
        content: { confirm: true },
      }));
      transport = new ConnectionTransport(
        createHttp2Connection({ url: server.url, h2c: true, ...(era ? { era } : {}) }),
      );
      await client.connect(transport);
    });
    afterAll(async () => {
      await client?.close();
      await server?.close();
    });

    it('negotiates 2026-07-28 with no session, and calls tools', async () => {
      expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
      expect(transport.sessionId).toBeUndefined();
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('confirm');
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'modern' } });
      expect(firstText(echo)).toBe('modern');
      // Every request went out with the standard headers of the era.
      const last = server.seenHeaders.at(-1);
      expect(last?.['mcp-method']).toBe('tools/call');
      expect(last?.['mcp-protocol-version']).toBe('2026-07-28');
    });

    it('completes a multi round-trip call through the client elicitation handler', async () => {
      const result = await client.callTool({ name: 'confirm', arguments: { what: 'the order' } });
      expect(firstText(result)).toBe('confirmed: yes');
    });
  },
);
