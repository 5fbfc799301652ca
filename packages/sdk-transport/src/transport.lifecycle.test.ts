// Sessions and lifecycle through ConnectionTransport with the SDK v1 Client: expiry and
// re-initialization, terminateSession, close, cancellation, and misuse answered with typed errors.
import { ErrorCode } from '@mcp/connection-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionTo, connectV1, firstText } from '../test/clients.ts';
import type { TestServer } from '../test/host.ts';
import { SERVER_MATRIX } from '../test/matrix.ts';
import { startV1Server } from '../test/server-v1.ts';
import { ConnectionTransport } from './index.ts';

const echo = (text: string) => ({ name: 'echo', arguments: { text } });

describe.each(SERVER_MATRIX)('ConnectionTransport lifecycle, %s over %s', (_, flavor, start) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await start(flavor);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('re-initializes an expired session by itself when the connection has reinitialize', async () => {
    const { client, transport } = await connectV1(server, true);
    try {
      const first = transport.sessionId;
      await server.forgetSessions();
      expect(firstText(await client.callTool(echo('again')))).toBe('again');
      expect(transport.sessionId).toBeDefined();
      expect(transport.sessionId).not.toBe(first);
    } finally {
      await client.close();
    }
  });

  it('fails calls on an expired session with MCP_SESSION_EXPIRED; a new transport starts over', async () => {
    const { client, connection } = await connectV1(server);
    await server.forgetSessions();
    await expect(client.callTool(echo('lost'))).rejects.toMatchObject({
      code: ErrorCode.SESSION_EXPIRED,
    });
    await client.close();
    expect(connection.closed).toBe(true);
    const again = await connectV1(server);
    try {
      expect(firstText(await again.client.callTool(echo('back')))).toBe('back');
    } finally {
      await again.client.close();
    }
  });

  it('terminateSession ends the session on the server (DELETE) and closes the Client', async () => {
    const { client, transport } = await connectV1(server);
    const sessionId = transport.sessionId as string;
    let closed = 0;
    client.onclose = () => closed++;
    await transport.terminateSession();
    expect(server.deleted).toContain(sessionId);
    expect(closed).toBe(1);
    await expect(client.callTool(echo('gone'))).rejects.toThrow();
  });

  it('client.close() closes the connection, ends the session and reports onclose once', async () => {
    const { client, transport, connection } = await connectV1(server);
    const sessionId = transport.sessionId as string;
    let closed = 0;
    client.onclose = () => closed++;
    await client.close();
    await transport.close();
    expect(connection.closed).toBe(true);
    expect(server.deleted).toContain(sessionId);
    expect(closed).toBe(1);
  });

  it('cancels a request on the server when the caller aborts it', async () => {
    const { client } = await connectV1(server);
    try {
      const before = server.cancelled.length;
      const controller = new AbortController();
      // Aborted once the server is at work on it (its first progress came).
      const call = client.callTool(
        { name: 'paced', arguments: { steps: 2, gapMs: 10_000 } },
        undefined,
        { signal: controller.signal, onprogress: () => controller.abort('user gave up') },
      );
      await expect(call).rejects.toThrow();
      const cancel = await server.cancellation(before);
      expect(String(cancel.reason)).toContain('user gave up');
      // The session still serves requests after the cancellation.
      expect(firstText(await client.callTool(echo('still here')))).toBe('still here');
    } finally {
      await client.close();
    }
  });

  it('reports onclose when the connection is closed under it', async () => {
    const { client, connection } = await connectV1(server);
    const closed = new Promise<void>((resolve) => {
      client.onclose = resolve;
    });
    await connection.close();
    await closed;
    await expect(client.listTools()).rejects.toThrow();
  });
});

describe('ConnectionTransport misuse', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startV1Server('h2c');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses to send before start with MCP_INVALID_STATE', async () => {
    const transport = new ConnectionTransport(connectionTo(server));
    await expect(
      transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    await transport.close();
  });

  it('refuses a second start with MCP_INVALID_STATE', async () => {
    const transport = new ConnectionTransport(connectionTo(server));
    await transport.start();
    await expect(transport.start()).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    await transport.close();
  });

  it('refuses a resumption token with MCP_UNSUPPORTED instead of sending the request again', async () => {
    const { client, transport } = await connectV1(server);
    try {
      await expect(
        transport.send(
          { jsonrpc: '2.0', id: 'resume-me', method: 'tools/list' },
          { resumptionToken: 'event-7' },
        ),
      ).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED, feature: 'resumptionToken' });
    } finally {
      await client.close();
    }
  });

  it('fails to start on a closed connection with MCP_CONNECTION_CLOSED', async () => {
    const connection = connectionTo(server);
    await connection.close();
    await expect(new ConnectionTransport(connection).start()).rejects.toMatchObject({
      code: ErrorCode.CONNECTION_CLOSED,
    });
  });

  it('rejects what is not a Connection', () => {
    expect(() => new ConnectionTransport({} as never)).toThrow(TypeError);
  });
});
