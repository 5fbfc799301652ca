import type { ServerHttp2Session } from 'node:http2';
import { InvalidOptionsError } from '@mcp/connection-core';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { startH2Server } from '../test/h2-server.ts';
import { closeAfterEach, initialized, initializeRequest, request } from '../test/helpers.ts';
import { createHttp2Connection } from './connection.ts';
import { DEFAULT_CONNECTION_WINDOW_SIZE, DEFAULT_INITIAL_WINDOW_SIZE } from './flow-control.ts';
import type { Http2ConnectionOptions } from './options.ts';

const own = closeAfterEach();

interface SeenWindows {
  /** SETTINGS_INITIAL_WINDOW_SIZE the client sent. */
  streamWindow: number | undefined;
  /** What the server may still send on the connection. */
  connectionWindow: number | undefined;
}

/** Opens a connection and reads, on the server's side, the windows the client granted. */
async function windowsSeen(options: Partial<Http2ConnectionOptions>): Promise<SeenWindows> {
  const server = own(await startH2Server());
  let session: ServerHttp2Session | undefined;
  server.intercept = (req) => {
    session ??= req.stream.session as ServerHttp2Session;
    return false;
  };
  const connection = own(createHttp2Connection({ url: server.url, h2c: true, ...options }));
  await connection.request(initializeRequest());
  await connection.notify(initialized);
  await connection.request(request('tools/list'));
  return {
    streamWindow: session?.remoteSettings.initialWindowSize,
    connectionWindow: session?.state.remoteWindowSize,
  };
}

describe('HTTP/2 flow control', () => {
  it('grants a 1 MiB stream window and a 10 MiB connection window by default', async () => {
    const seen = await windowsSeen({});
    expect(seen.streamWindow).toBe(DEFAULT_INITIAL_WINDOW_SIZE);
    // Less what the server sent since the client's last WINDOW_UPDATE (a few hundred bytes).
    expect(seen.connectionWindow).toBeGreaterThan(DEFAULT_CONNECTION_WINDOW_SIZE - 65_536);
    expect(seen.connectionWindow).toBeLessThanOrEqual(DEFAULT_CONNECTION_WINDOW_SIZE);
  });

  it('sends the windows it is given', async () => {
    const seen = await windowsSeen({
      initialWindowSize: 2 * 1024 * 1024,
      connectionWindowSize: 4 * 1024 * 1024,
    });
    expect(seen.streamWindow).toBe(2 * 1024 * 1024);
    expect(seen.connectionWindow).toBeGreaterThan(4 * 1024 * 1024 - 65_536);
    expect(seen.connectionWindow).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('refuses windows beside a dispatcher the caller owns, and windows out of range', () => {
    const dispatcher = new Pool('http://127.0.0.1:1');
    expect(() =>
      createHttp2Connection({ url: 'http://127.0.0.1:1/mcp', dispatcher, initialWindowSize: 1 }),
    ).toThrow(InvalidOptionsError);
    expect(() =>
      createHttp2Connection({ url: 'http://127.0.0.1:1/mcp', connectionWindowSize: 2 ** 31 }),
    ).toThrow(InvalidOptionsError);
    void dispatcher.destroy();
  });
});
