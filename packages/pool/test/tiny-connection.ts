import {
  type Connection,
  ConnectionClosedError,
  ConnectionMetrics,
  HttpStatusError,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  parseMessage,
  SessionExpiredError,
  TransportError,
} from '@mcp/connection-core';
import type { Dispatcher } from 'undici';

/**
 * A minimal MCP Connection over a given dispatcher, for the pool's tests only (JSON responses,
 * no server stream). It stands in for `createHttp2Connection` where a test needs a transport
 * it can see inside of.
 */
export class TinyConnection implements Connection {
  readonly isMultiplexed = true;
  readonly metrics: ConnectionMetrics;
  readonly #url: URL;
  readonly #dispatcher: Dispatcher;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  closed = false;

  constructor(url: string, dispatcher: Dispatcher) {
    this.#url = new URL(url);
    this.#dispatcher = dispatcher;
    this.metrics = new ConnectionMetrics(url);
  }

  async request(message: JsonRpcRequest): Promise<JsonRpcResponse> {
    const startedAt = this.metrics.requestStarted(message.method);
    try {
      const { status, headers, body } = await this.#post(message);
      if (status !== 200) throw this.#statusError(status, body);
      const sessionId = headers['mcp-session-id'];
      if (message.method === 'initialize' && typeof sessionId === 'string') {
        this.sessionId = sessionId;
        this.protocolVersion = '2025-11-25';
      }
      const response = parseMessage(body) as JsonRpcResponse;
      this.metrics.requestSucceeded(message.method, startedAt);
      return response;
    } catch (err) {
      const failure =
        err instanceof Error && 'code' in err ? err : new TransportError('failed', { cause: err });
      this.metrics.requestFailed(
        message.method,
        startedAt,
        String((failure as { code: unknown }).code),
      );
      throw failure;
    }
  }

  async notify(notification: JsonRpcNotification): Promise<void> {
    const { status, body } = await this.#post(notification);
    if (status !== 202) throw this.#statusError(status, body);
    this.metrics.notificationSent(notification.method);
  }

  async respond(response: JsonRpcResponse): Promise<void> {
    await this.#post(response);
  }

  async receive(): Promise<JsonRpcMessage | undefined> {
    return undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<JsonRpcMessage> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sessionId === undefined) return;
    const { body } = await this.#dispatcher.request({
      origin: this.#url.origin,
      path: this.#url.pathname,
      method: 'DELETE',
      headers: { 'mcp-session-id': this.sessionId },
    });
    await body.dump();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #post(
    message: JsonRpcMessage,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    if (this.closed) throw new ConnectionClosedError();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    if (this.sessionId !== undefined) headers['mcp-session-id'] = this.sessionId;
    try {
      const response = await this.#dispatcher.request({
        origin: this.#url.origin,
        path: this.#url.pathname,
        method: 'POST',
        headers,
        body: JSON.stringify(message),
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: await response.body.text(),
      };
    } catch (cause) {
      throw new TransportError('request failed', { cause });
    }
  }

  #statusError(status: number, body: string): Error {
    if (status === 404 && this.sessionId !== undefined) {
      this.closed = true;
      return new SessionExpiredError(this.sessionId);
    }
    return new HttpStatusError(status, {}, body);
  }
}
